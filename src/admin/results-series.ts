import { Type, type Static } from '@sinclair/typebox';
import { optimizationResultsUntil, ResultsError } from '../attribution/index.js';
import { ServiceError } from '../core/index.js';
import type { Optimization, Store } from '../store/index.js';

const DAY = 86_400_000;
const STEP = { day: DAY, hour: 3_600_000 } as const;
/** Each point is one results query: enough for a year by day, and bounded. */
export const MAX_SERIES_POINTS = 400;

const Instant = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ format: 'date-time' })], { description: 'epoch milliseconds or an ISO 8601 time' });

export const ResultsSeriesQuerySchema = Type.Object({
  goal: Type.Optional(Type.String({ maxLength: 255, description: 'a goal of the optimization; default: its primary goal' })),
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
  interval: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('hour')], { default: 'day', description: '"day" (default) or "hour"' })),
});
export type ResultsSeriesQuery = Static<typeof ResultsSeriesQuerySchema>;

/** One point: the results of [from, at), per variation. */
export interface SeriesPoint {
  at: number;
  variations: { key: string; visitors: number; converters: number; conversionRate: number }[];
}

const instant = (v: number | string | undefined): number | undefined => (v === undefined ? undefined : typeof v === 'number' ? v : Date.parse(v));

/**
 * The conversion rate of each variation over time, cumulated from `from` (default: the beginning)
 * to the end of each interval: what a "rate over time" chart draws. Intervals are aligned on UTC
 * days (or hours); the first starts at `from`, or at the day the optimization was created, and the
 * last ends at `to` (default: now). Each point is the results answer for its range, all of them
 * counted in one reading of the workspace (optimizationResultsUntil).
 */
export async function resultsSeries(store: Store, o: Optimization, q: ResultsSeriesQuery, now: number) {
  const interval = q.interval ?? 'day';
  const step = STEP[interval];
  const from = instant(q.from);
  const to = instant(q.to) ?? now;
  const start = Math.floor((from ?? o.createdAt) / step) * step;
  if (!Number.isFinite(start) || !Number.isFinite(to) || to <= start) throw new ServiceError('field_invalid', 'to must be after from (and after the optimization was created when from is not given).');
  // Counted before the points are listed: `to` may be years (or 1e308 ms) away.
  const count = Math.ceil((to - start) / step);
  if (count > MAX_SERIES_POINTS) {
    throw new ServiceError('field_invalid', `That range has ${count} ${interval}s; ask for at most ${MAX_SERIES_POINTS} points (a shorter range, or interval=day).`);
  }
  const ends: number[] = [];
  for (let at = start + step; at < to; at += step) ends.push(at);
  ends.push(to);
  const points: SeriesPoint[] = [];
  let goal = '';
  try {
    const answers = await optimizationResultsUntil(store, o, { ...(q.goal !== undefined ? { goal: q.goal } : {}), ...(from !== undefined ? { from } : {}) }, ends);
    answers.forEach((r, i) => {
      goal = r.goal;
      points.push({ at: ends[i]!, variations: r.variations.map((v) => ({ key: v.key, visitors: v.visitors, converters: v.converters, conversionRate: v.conversionRate })) });
    });
  } catch (err) {
    if (err instanceof ResultsError) throw new ServiceError('field_invalid', err.message);
    throw err;
  }
  return { optimization: o.key, goal, interval, from: from ?? null, to, points };
}
