import type { ConversionInput, Outcome } from './engine.js';
import type { SessionRules } from './sessions.js';

const at = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const minutes = (ms: number): string => {
  // Under a minute in seconds: a conversion 1 s after the session ended must not read "0 min".
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${(ms / 3_600_000).toFixed(1)} h`;
};

function who(c: ConversionInput): string {
  const parts: string[] = [];
  if (c.visitorId !== null) parts.push(`visitorId "${c.visitorId}"`);
  if (c.sessionId !== null) parts.push(`sessionId "${c.sessionId}"`);
  if (c.userDomain !== null && c.userId !== null) parts.push(`setUserId("${c.userDomain}", "${c.userId}")`);
  return parts.length === 0 ? 'no visitor, session or user id' : parts.join(', ');
}

/** One sentence a person can act on, saying why the outcome is what it is. */
export function explain(c: ConversionInput, o: Outcome, rules: SessionRules): string {
  const tc = at(c.occurredAt);
  if (o.outcome === 'attributed') {
    const list = o.attributions.map((a) => `variation "${a.variation}" of "${a.optimization}" (viewed ${at(a.viewedAt)} by visitor ${a.visitorId})`).join(' and ');
    return `Attributed to ${list}: the view came at or before the conversion at ${tc}, in the same session.`;
  }
  switch (o.reason) {
    case 'unknown_goal':
      return `No goal has ever been called "${c.name}"; create one with that API name (closeloop goals create ${c.name}), then replay or re-run attribution.`;
    case 'goal_not_created_yet':
      return `The goal "${c.name}" was created after this conversion (${tc}) and conversions from before a goal exists are not attributed: create a goal before its conversions happen.`;
    case 'goal_renamed':
      return `A goal was called "${c.name}", but not at ${tc} (it had another name then): send the name that was valid at the time of the conversion.`;
    case 'unknown_user':
      return `No visitor matches ${who(c)}: call setUserId with the same domain and id in the browser before the conversion is sent, or send a visitorId or sessionId we have seen.`;
    case 'goal_not_in_any_optimization':
      return `The goal "${c.name}" is not a goal of any optimization; add it to the optimization's goals.`;
    case 'no_view_before_conversion':
      return `The visitor (${o.visitors.join(', ')}) saw no variation of an optimization with the goal "${c.name}" at or before ${tc}: check that the page sends the view (optimization and variation) for this visitor before the conversion.`;
    case 'session_expired': {
      const d = o.deciding!;
      return `The latest view (variation "${d.variation}" of "${d.optimization}" at ${at(d.viewedAt)}) was in a session that ended at ${at(d.sessionEnd)} after ${minutes(rules.timeoutMs)} without activity, ${minutes(c.occurredAt - d.sessionEnd)} before the conversion at ${tc}; to count later conversions, raise the workspace's sessionTimeoutMinutes.`;
    }
    case 'session_max_duration': {
      const d = o.deciding!;
      return `The latest view (variation "${d.variation}" of "${d.optimization}" at ${at(d.viewedAt)}) was in a session that started ${at(d.sessionStart)} and reached its ${minutes(rules.maxMs)} maximum at ${at(d.sessionEnd)}, before the conversion at ${tc}; to count conversions in longer sessions, raise the workspace's sessionMaxHours.`;
    }
  }
}
