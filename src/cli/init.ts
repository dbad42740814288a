import { randomInt } from 'node:crypto';
import { ensureAdminToken } from '../admin/index.js';
import { configFrom, parse, UsageError, withAdmin, type Io } from './context.js';
import { QUEUE_STUB } from '../tracker/index.js';
import { curlExamples, snippetTag } from './examples.js';

export const INIT_HELP = `Usage: closeloop init [--workspace ID] [--name NAME] [--url http://127.0.0.1:8080] [--data ./data] [--json]

Creates a workspace with a server key and a browser key and prints them once, with the snippet
tag and a working curl example for each dialect. --workspace defaults to a random 9-digit id
(the form of an Optimize account id); --url is the address the examples use.`;

export async function init(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { workspace: { type: 'string', short: 'w' }, name: { type: 'string' }, url: { type: 'string' } });
  if (values.help === true) {
    io.out(INIT_HELP);
    return 0;
  }
  const config = configFrom(io, values);
  const id = values.workspace ?? String(randomInt(100_000_000, 1_000_000_000));
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`--workspace must be 1 to 64 letters, digits, _ or -, got "${id}".`);
  const baseUrl = (values.url ?? `http://${config.host}:${config.port === 0 ? 8080 : config.port}`).replace(/\/$/, '');
  const made = await withAdmin(config, async (admin, store, clock) => {
    if ((await store.workspaces.get(id)) !== null) {
      throw new UsageError(`Workspace "${id}" already exists; create more keys with \`closeloop keys create --workspace ${id} --name NAME\`.`, 1);
    }
    const token = await ensureAdminToken(store, config.adminToken);
    const ws = await admin.createWorkspace({ id, ...(values.name !== undefined ? { name: values.name } : {}) });
    const server = await admin.createKey(id, { name: 'server (init)', kind: 'server' });
    const browser = await admin.createKey(id, { name: 'browser (init)', kind: 'browser' });
    return { ws, server, browser, adminToken: token.generated, now: clock.now() };
  });
  const examples = curlExamples(baseUrl, id, made.server.key, made.now);
  if (values.json === true) {
    io.out(JSON.stringify({
      workspace: { id: made.ws.id, name: made.ws.name },
      serverKey: { id: made.server.record.id, key: made.server.key },
      browserKey: { id: made.browser.record.id, key: made.browser.key },
      adminToken: made.adminToken,
      snippet: snippetTag(baseUrl, made.browser.key),
      curl: Object.fromEntries(examples.map((e) => [e.dialect, e.command])),
    }, null, 2));
    return 0;
  }
  const lines = [
    `Workspace ${made.ws.id} created in ${config.dataDir}.`,
    '',
    'Keys — shown once, stored only as hashes; copy them now:',
    `  server key  (backends, all dialects):  ${made.server.key}`,
    `  browser key (the snippet, /collect):   ${made.browser.key}`,
  ];
  if (made.adminToken !== null) lines.push(`  admin token (/admin/v1, dashboard):    ${made.adminToken}`);
  lines.push('', 'Snippet for your pages (the first line is optional: it keeps calls made before t.js loads):', `  ${QUEUE_STUB}`, `  ${snippetTag(baseUrl, made.browser.key)}`, '');
  lines.push(`Start the service with \`npx closeloop serve\`, then try a conversion in any dialect:`);
  for (const e of examples) lines.push('', `# ${e.dialect}`, e.command);
  io.out(lines.join('\n'));
  return 0;
}
