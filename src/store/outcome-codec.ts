import type { DecidingDetail } from './outcome-bytes.js';
import type { OutcomeChange, StoredOutcome } from './types.js';

/**
 * How attribution outcomes and restatements were kept before they were kept as bytes
 * (outcome-bytes.ts): JSON arrays. Stores written before hold chunks in this form; they are read
 * as they are, and a chunk a run rewrites is rewritten as bytes. The migrations that brought
 * older stores to this form use it too (migrations 4 and 5).
 *
 *   outcome:     [eventId, runId, goalId, reason, attributions, detail]   (reason null: attributed)
 *   attribution: [optimization, variation, viewedAt, visitorId]
 *   detail:      [[visitorId…], deciding]
 *   deciding:    null | [optimization, variation, viewedAt, visitorId, sessionStart, sessionEnd]
 *   change:      [eventId, before, after], each null | [reason, attributions]
 */

type Attribution = StoredOutcome['attributions'][number];

const str = JSON.stringify;

const attributionJson = (optimization: string, variation: string, viewedAt: number, visitorId: string): string =>
  `[${str(optimization)},${str(variation)},${viewedAt},${str(visitorId)}]`;

const attributionsJson = (list: readonly Attribution[]): string =>
  `[${list.map((a) => attributionJson(a.optimization, a.variation, a.viewedAt, a.visitorId)).join(',')}]`;

const decidingJson = (d: DecidingDetail | null): string =>
  d === null ? 'null' : `[${str(d.optimization)},${str(d.variation)},${d.viewedAt},${str(d.visitorId)},${d.sessionStart},${d.sessionEnd}]`;

/** `visitorsJson`: a JSON array of the visitor ids. */
const detailJson = (visitorsJson: string, deciding: string): string => `[${visitorsJson},${deciding}]`;

/** What a restatement says an outcome was or became: its reason (null: attributed) and attributions. */
const summaryJson = (reason: string | null, attributions: string): string => `[${str(reason)},${attributions}]`;

/** summaryJson of an outcome as it was stored. */
const summaryJsonOf = (o: { reason: string | null; attributions: readonly Attribution[] }): string => summaryJson(o.reason, attributionsJson(o.attributions));

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

/** The items of a chunk row kept as JSON (text; as bytes only if a driver hands the text over so). */
export const jsonChunk = <T>(data: string | Uint8Array): T[] => JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')) as T[];
