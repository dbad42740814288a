import type { OutcomeChange, StoredOutcome } from './types.js';

/**
 * How attribution outcomes and restatements are kept: JSON arrays, not objects. A first run over
 * a million conversions writes each outcome and its restatement once; as objects (key names in
 * every item) that was 425 MB of JSON to build, write to the WAL and checkpoint; as arrays, 150 MB.
 * A run writes them as bytes straight from its numbers (runner.ts, RunWrites); readers turn them
 * back into StoredOutcome and OutcomeChange; results read the attributed ones by position (attributedTo).
 *
 *   outcome:     [eventId, runId, goalId, reason, attributions, detail]   (reason null: attributed)
 *   attribution: [optimization, variation, viewedAt, visitorId]
 *   detail:      [[visitorId…], deciding]
 *   deciding:    null | [optimization, variation, viewedAt, visitorId, sessionStart, sessionEnd]
 *   change:      [eventId, before, after], each null | [reason, attributions]
 */

type Attribution = StoredOutcome['attributions'][number];

/** The view that decided a session reason, as StoredOutcome.detail.deciding holds it. */
export interface DecidingDetail {
  optimization: string;
  variation: string;
  viewedAt: number;
  visitorId: string;
  sessionStart: number;
  sessionEnd: number;
}

const str = JSON.stringify;

const attributionJson = (optimization: string, variation: string, viewedAt: number, visitorId: string): string =>
  `[${str(optimization)},${str(variation)},${viewedAt},${str(visitorId)}]`;

export const attributionsJson = (list: readonly Attribution[]): string =>
  `[${list.map((a) => attributionJson(a.optimization, a.variation, a.viewedAt, a.visitorId)).join(',')}]`;

const decidingJson = (d: DecidingDetail | null): string =>
  d === null ? 'null' : `[${str(d.optimization)},${str(d.variation)},${d.viewedAt},${str(d.visitorId)},${d.sessionStart},${d.sessionEnd}]`;

/** `visitorsJson`: a JSON array of the visitor ids. */
const detailJson = (visitorsJson: string, deciding: string): string => `[${visitorsJson},${deciding}]`;

/** What a restatement says an outcome was or became: its reason (null: attributed) and attributions. */
export const summaryJson = (reason: string | null, attributions: string): string => `[${str(reason)},${attributions}]`;

/** summaryJson of an outcome as it was stored. */
export const summaryJsonOf = (o: { reason: string | null; attributions: readonly Attribution[] }): string => summaryJson(o.reason, attributionsJson(o.attributions));

const outcomeJson = (eventId: number, runId: number, goalId: number | null, reason: string | null, attributions: string, detail: string): string =>
  `[${eventId},${runId},${goalId},${str(reason)},${attributions},${detail}]`;

const changeJson = (eventId: number, before: string | null, after: string | null): string =>
  `[${eventId},${before ?? 'null'},${after ?? 'null'}]`;

type AttributionItem = [string, string, number, string];
type DecidingItem = [string, string, number, string, number, number];
export type OutcomeItem = [number, number, number | null, string | null, AttributionItem[], [string[], DecidingItem | null]];
type SummaryItem = [string | null, AttributionItem[]] | null;
export type ChangeItem = [number, SummaryItem, SummaryItem];

const attributionsOf = (items: AttributionItem[]): Attribution[] =>
  items.map(([optimization, variation, viewedAt, visitorId]) => ({ optimization, variation, viewedAt, visitorId }));

export function outcomeFromItem([eventId, runId, goalId, reason, attributions, [visitors, d]]: OutcomeItem): StoredOutcome {
  const deciding: DecidingDetail | null = d === null ? null
    : { optimization: d[0], variation: d[1], viewedAt: d[2], visitorId: d[3], sessionStart: d[4], sessionEnd: d[5] };
  return { eventId, outcome: reason === null ? 'attributed' : 'not_attributed', reason, goalId, attributions: attributionsOf(attributions), detail: { visitors, deciding }, runId };
}

/** outcomeFromItem's inverse: the JSON an outcome is kept as. */
export const itemJsonOf = (o: StoredOutcome): string =>
  outcomeJson(o.eventId, o.runId, o.goalId, o.reason, attributionsJson(o.attributions),
    detailJson(str(o.detail.visitors), decidingJson(o.detail.deciding as DecidingDetail | null)));

const summaryOf = (s: SummaryItem): OutcomeChange['before'] =>
  s === null ? null : { outcome: s[0] === null ? 'attributed' : 'not_attributed', reason: s[0], attributions: attributionsOf(s[1]) };

export const changeFromItem = ([eventId, before, after]: ChangeItem): OutcomeChange => ({ eventId, before: summaryOf(before), after: summaryOf(after) });

/** A restatement as versions before 4 kept it (an object), in today's form (migration 4; outcomes: itemJsonOf). */
export const upgradeChange = (c: OutcomeChange): string =>
  changeJson(c.eventId, c.before === null ? null : summaryJsonOf(c.before), c.after === null ? null : summaryJsonOf(c.after));
