import { goalView } from '../admin/index.js';
import type { AdminService } from '../admin/index.js';
import { iso, parse, table, UsageError, workspaceCommand, type Io } from './context.js';

export const GOALS_HELP = `Usage:
  closeloop goals create API_NAME [--name "Display name"] [--workspace ID]
  closeloop goals rename GOAL NEW_API_NAME [--workspace ID]     (GOAL: its id or current API name)
  closeloop goals list [--workspace ID]

A goal's API name is what conversions carry (eventName, apiName, event_type, name). A rename
keeps the old name in the goal's history with the interval it was valid in.`;

async function goalId(admin: AdminService, ws: string, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) return Number(ref);
  const goal = (await admin.listGoals(ws)).find((g) => g.history.at(-1)?.apiName === ref);
  if (goal === undefined) throw new UsageError(`There is no goal called "${ref}" in workspace ${ws}.`, 1);
  return goal.id;
}

export async function goals(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { workspace: { type: 'string', short: 'w' }, name: { type: 'string' } });
  return workspaceCommand(io, GOALS_HELP, values, positionals, async (action, [a, b], admin, ws) => {
    switch (action) {
      case 'create': {
        if (a === undefined) throw new UsageError('goals create needs the API name, e.g. closeloop goals create application-accepted.');
        const g = goalView(await admin.createGoal(ws, { apiName: a, ...(values.name !== undefined ? { name: values.name } : {}) }));
        io.out(values.json === true ? JSON.stringify(g, null, 2) : `Created goal ${g.id} "${g.apiName}" in workspace ${ws}, valid from ${iso(g.createdAt)}.`);
        return 0;
      }
      case 'rename': {
        if (a === undefined || b === undefined) throw new UsageError('goals rename needs the goal and the new API name, e.g. closeloop goals rename 3 app-approved.');
        const g = goalView(await admin.renameGoal(ws, await goalId(admin, ws, a), b));
        io.out(values.json === true ? JSON.stringify(g, null, 2) : `Goal ${g.id} is now "${g.apiName}"; history: ${g.history.map((h) => `${h.apiName} [${iso(h.validFrom)} – ${iso(h.validTo) ?? 'now'})`).join(', ')}.`);
        return 0;
      }
      case 'list': {
        const list = (await admin.listGoals(ws)).map(goalView);
        if (values.json === true) io.out(JSON.stringify({ goals: list }, null, 2));
        else io.out(table(['ID', 'API NAME', 'NAME', 'HISTORY'], list.map((g) => [g.id, g.apiName, g.name,
          g.history.map((h) => `${h.apiName} ${iso(h.validFrom)}–${iso(h.validTo) ?? 'now'}`).join('; ')])));
        return 0;
      }
      default:
        throw new UsageError(`Unknown action "${action}"; use create, rename or list.`);
    }
  });
}
