import { keyView } from '../admin/index.js';
import { iso, parse, table, UsageError, workspaceCommand, type Io } from './context.js';

export const KEYS_HELP = `Usage:
  closeloop keys create --name NAME [--kind server|browser] [--rate-limit N] [--workspace ID]
  closeloop keys list [--workspace ID]
  closeloop keys revoke KEY_ID [--workspace ID]

Manages a workspace's API keys. A new key is printed once and stored only as a hash.
--workspace may be left out when there is only one workspace. Add --json for JSON.`;

export async function keys(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { workspace: { type: 'string', short: 'w' }, name: { type: 'string' }, kind: { type: 'string' }, 'rate-limit': { type: 'string' } });
  return workspaceCommand(io, KEYS_HELP, values, positionals, async (action, [id], admin, ws) => {
    switch (action) {
      case 'create': {
        if (values.name === undefined) throw new UsageError('keys create needs --name, e.g. --name "CRM webhook".');
        const kind = values.kind ?? 'server';
        if (kind !== 'server' && kind !== 'browser') throw new UsageError(`--kind must be server or browser, got "${kind}".`);
        const limit = values['rate-limit'] === undefined ? undefined : Number(values['rate-limit']);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--rate-limit must be a whole number of requests per minute, got "${values['rate-limit']}".`);
        const made = await admin.createKey(ws, { name: values.name, kind, ...(limit !== undefined ? { rateLimitPerMinute: limit } : {}) });
        if (values.json === true) io.out(JSON.stringify({ ...keyView(made.record), key: made.key }, null, 2));
        else io.out(`Created ${kind} key ${made.record.id} "${made.record.name}" in workspace ${ws}. Copy it now, it is not shown again:\n  ${made.key}`);
        return 0;
      }
      case 'list': {
        const list = (await admin.listKeys(ws)).map(keyView);
        if (values.json === true) io.out(JSON.stringify({ keys: list }, null, 2));
        else io.out(table(['ID', 'NAME', 'KIND', 'PREFIX', 'STATUS', 'CREATED'], list.map((k) => [k.id, k.name, k.kind, `${k.prefix}…`, k.status, iso(k.createdAt)])));
        return 0;
      }
      case 'revoke': {
        if (id === undefined) throw new UsageError('keys revoke needs the key id, e.g. closeloop keys revoke key_AbC123 (see closeloop keys list).');
        const k = keyView(await admin.revokeKey(ws, id));
        if (values.json === true) io.out(JSON.stringify(k, null, 2));
        else io.out(`Revoked key ${k.id} "${k.name}"; requests with it are refused from now on.`);
        return 0;
      }
      default:
        throw new UsageError(`Unknown action "${action}"; use create, list or revoke.`);
    }
  });
}
