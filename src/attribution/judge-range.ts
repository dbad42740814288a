import { RunWrites, type Fingerprints } from '../store/index.js';
import { Fingerprint } from './fingerprint.js';
import { VisitorSet, type ActivityIndex } from './activity.js';
import type { Conversions } from './conversions.js';
import { judge, Judgement, namesAVisitor, type ConversionRef, type EngineContext } from './engine.js';
import { domainKey, QualityTally } from './quality.js';

/** What judging a range of a run's conversions found (judgeRange). */
export interface JudgedRange {
  /** The outcomes to write: new ones, and changed ones (their fingerprint differs from the stored one). */
  writes: RunWrites;
  /** Conversions in `writes` that had a stored outcome. */
  rewritten: number[];
  /** Stored outcomes in the range whose event is no longer a conversion. */
  withdrawn: number[];
  attributed: number;
  quality: QualityTally;
}

/**
 * Writes the outcome a judgement stands for into the run's writes, in the form the store keeps
 * (outcome-codec.ts), straight from the judgement's numbers: a first run writes a million of
 * these, and making an Outcome object, then strings, then chunks of strings, cost more than judging.
 */
function writeOutcome(writes: RunWrites, eventId: number, j: Judgement, a: ActivityIndex, fingerprint: number): number {
  const out = writes.attributionsOut().char('[');
  if (j.reason === null) {
    for (let k = 0; k < j.attributionCount; k++) {
      const x = j.attributions[k]!;
      if (k > 0) out.char(',');
      out.char('[').string(x.optimization).char(',');
      a.writeName(out, x.variation);
      out.char(',').num(x.viewedAt).char(',');
      a.writeName(out, x.visitor);
      out.char(']');
    }
  }
  out.char(']');
  writes.detailOut().char('[').char('[');
  for (let k = 0; k < j.visitors.size; k++) {
    if (k > 0) out.char(',');
    a.writeName(out, j.visitors.items[k]!);
  }
  out.char(']').char(',');
  const d = j.deciding;
  if (!j.hasDeciding()) out.ascii('null');
  else {
    out.char('[').string(d.optimization).char(',');
    a.writeName(out, d.variation);
    out.char(',').num(d.viewedAt).char(',');
    a.writeName(out, d.visitor);
    out.char(',').num(d.sessionStart).char(',').num(d.sessionEnd).char(']');
  }
  out.char(']');
  return writes.end(eventId, j.reason, j.goalId, fingerprint);
}

/**
 * Judges conversions [from, to) of a run (in event id order), tallying data quality on the way,
 * and compares each outcome's fingerprint with the stored one: `before` holds the stored
 * outcomes' ids and fingerprints from the first conversion's id of the range up to (not
 * including) the next range's, in id order, so one pass walks both lists side by side; an
 * unchanged outcome costs a number compared, not a row parsed. `judged(n)` is told every 10,000.
 * Pure: the same range of the same index gives the same answer on any thread.
 */
export function judgeRange(ctx: EngineContext, conversions: Conversions, from: number, to: number, before: Fingerprints, judged?: (n: number) => void): JudgedRange {
  if (from < 0 || from > to || to > conversions.length) throw new Error(`There are no conversions ${from}-${to} to judge (${conversions.length} in all).`);
  const activity = ctx.activity;
  const writes = new RunWrites();
  const rewritten: number[] = [];
  const withdrawn: number[] = [];
  let attributed = 0;
  const judgement = new Judgement();
  const print = new Fingerprint();
  // Data quality, tallied on the way: whether each conversion names a visitor is what judging resolves.
  const quality = new QualityTally();
  const domains = new Map<number, string>();
  const domainOf = (d: number) => {
    let name = domains.get(d);
    if (name === undefined) domains.set(d, (name = activity.nameOf(d)));
    return name;
  };
  const scratch = new VisitorSet();
  // One conversion object, refilled for each (judge() keeps nothing of it).
  const c: ConversionRef = { id: 0, name: '', occurredAt: 0, receivedAt: 0, visitor: -1, session: -1, domain: -1, user: -1 };
  let k = 0;
  for (let i = from; i < to; i++) {
    if (i > from && (i - from) % 10_000 === 0) judged?.(i - from);
    conversions.refAt(i, c);
    if (i > from && c.id <= conversions.idAt(i - 1)) throw new Error(`Conversions must be judged in event id order (${c.id} after ${conversions.idAt(i - 1)}).`);
    judge(c, ctx, judgement);
    if (judgement.reason === null) attributed++;
    // A conversion whose goal failed rule 1 was judged before its visitors were resolved.
    const matched = judgement.goalId !== null ? judgement.visitors.size > 0 : namesAVisitor(c, activity, scratch);
    const domain = domainKey(c.domain >= 0 ? domainOf(c.domain) : null, c.session >= 0, c.visitor >= 0);
    quality.add(domain, conversions.sourceAt(i), matched, c.receivedAt - c.occurredAt);
    const fp = judgement.fingerprint(activity, print);
    while (k < before.ids.length && before.ids[k]! < c.id) withdrawn.push(before.ids[k++]!);
    const known = k < before.ids.length && before.ids[k] === c.id;
    const old = known ? before.prints[k++]! : undefined;
    if (old === fp) continue;
    writeOutcome(writes, c.id, judgement, activity, fp);
    if (known) rewritten.push(c.id);
  }
  while (k < before.ids.length) withdrawn.push(before.ids[k++]!);
  judged?.(to - from);
  return { writes, rewritten, withdrawn, attributed, quality };
}

/** Stored outcomes' ids and fingerprints [from, to) of `before` (views when `copy` is false). */
export function fingerprintsBetween(before: Fingerprints, from: number, to: number, copy = false): Fingerprints {
  return copy
    ? { ids: before.ids.slice(from, to), prints: before.prints.slice(from, to) }
    : { ids: before.ids.subarray(from, to), prints: before.prints.subarray(from, to) };
}

/** The index of the first id in sorted `ids` at or above `id`. */
export function firstAtOrAbove(ids: Float64Array, id: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
