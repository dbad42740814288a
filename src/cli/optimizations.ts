import { optimizationView } from '../admin/index.js';
import { parse, table, UsageError, workspaceCommand, type Io } from './context.js';

export const OPTIMIZATIONS_HELP = `Usage:
  closeloop optimizations create KEY --variations control,bold[:WEIGHT,…] --goals GOAL[,GOAL…]
                                     [--primary-goal GOAL] [--control VARIATION] [--name NAME] [--workspace ID]
  closeloop optimizations list [--workspace ID]
  closeloop optimizations set-status KEY running|paused|ended [--workspace ID]

Variations are keys, optionally with a weight (default 1 each); the control defaults to the first
variation and the primary goal to the first goal. Goals must exist (closeloop goals create).`;

const STATUSES = ['running', 'paused', 'ended'] as const;

export async function optimizations(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    workspace: { type: 'string', short: 'w' }, name: { type: 'string' }, variations: { type: 'string' }, goals: { type: 'string' },
    'primary-goal': { type: 'string' }, control: { type: 'string' },
  });
  return workspaceCommand(io, OPTIMIZATIONS_HELP, values, positionals, async (action, [key, status], admin, ws) => {
    switch (action) {
      case 'create': {
        if (key === undefined) throw new UsageError('optimizations create needs a key, e.g. closeloop optimizations create hero --variations control,bold --goals signup.');
        if (values.variations === undefined) throw new UsageError('optimizations create needs --variations, e.g. --variations control,bold or control:1,bold:3.');
        if (values.goals === undefined) throw new UsageError('optimizations create needs --goals, e.g. --goals application-accepted.');
        const variations = values.variations.split(',').map((v) => {
          const [k = '', w] = v.split(':');
          const weight = w === undefined ? undefined : Number(w);
          if (weight !== undefined && !(weight > 0)) throw new UsageError(`--variations: the weight of "${k}" must be a positive number, got "${w}".`);
          return { key: k.trim(), ...(weight !== undefined ? { weight } : {}) };
        });
        const o = await admin.createOptimization(ws, {
          key, variations, goals: values.goals.split(',').map((g) => g.trim()),
          ...(values.name !== undefined ? { name: values.name } : {}),
          ...(values['primary-goal'] !== undefined ? { primaryGoal: values['primary-goal'] } : {}),
          ...(values.control !== undefined ? { control: values.control } : {}),
        });
        const view = optimizationView(o, await admin.goalsById(ws));
        io.out(values.json === true ? JSON.stringify(view, null, 2)
          : `Created optimization "${view.key}" (${view.status}) with variations ${view.variations.map((v) => `${v.key}:${v.weight}`).join(', ')}, control ${view.control}, goals ${view.goals.join(', ')} (primary ${view.primaryGoal}).`);
        return 0;
      }
      case 'list': {
        const goalsById = await admin.goalsById(ws);
        const list = (await admin.listOptimizations(ws)).map((o) => optimizationView(o, goalsById));
        if (values.json === true) io.out(JSON.stringify({ optimizations: list }, null, 2));
        else io.out(table(['KEY', 'STATUS', 'VARIATIONS', 'CONTROL', 'GOALS'], list.map((o) => [o.key, o.status, o.variations.map((v) => `${v.key}:${v.weight}`).join(','), o.control, o.goals.join(',')])));
        return 0;
      }
      case 'set-status': {
        if (key === undefined || status === undefined) throw new UsageError('optimizations set-status needs a key and a status, e.g. closeloop optimizations set-status hero paused.');
        if (!(STATUSES as readonly string[]).includes(status)) throw new UsageError(`status must be running, paused or ended, got "${status}".`);
        const o = optimizationView(await admin.setOptimizationStatus(ws, key, status as (typeof STATUSES)[number]), await admin.goalsById(ws));
        io.out(values.json === true ? JSON.stringify(o, null, 2) : `Optimization "${o.key}" is now ${o.status}.`);
        return 0;
      }
      default:
        throw new UsageError(`Unknown action "${action}"; use create, list or set-status.`);
    }
  });
}
