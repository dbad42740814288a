import { RunWrites, type Fingerprints, type RunWritesParts } from '../store/index.js';
import { Fingerprint } from './fingerprint.js';
import { VisitorSet, type ActivityIndex } from './activity.js';
import type { Conversions } from './conversions.js';
import { judge, Judgement, namesAVisitor, type ConversionRef, type EngineContext } from './engine.js';
import { domainKey, QualityTally, type QualityParts } from './quality.js';

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
 * Judges ranges of a run's conversions (in event id order, each range after the last), tallying
 * data quality on the way, and compares each outcome's fingerprint with the stored one, walking
 * the stored outcomes' ids and fingerprints (`before`, in id order) side by side with the
 * conversions: an unchanged outcome costs a number compared, not a row parsed. Pure: the same
 * range of the same index gives the same answer on any thread.
 */
class RangeJudge {
  readonly writes = new RunWrites();
  readonly rewritten: number[] = [];
  readonly withdrawn: number[] = [];
  attributed = 0;
  // Data quality, tallied on the way: whether each conversion names a visitor is what judging resolves.
  readonly quality = new QualityTally();
  readonly #judgement = new Judgement();
  readonly #print = new Fingerprint();
  readonly #scratch = new VisitorSet();
  readonly #domains = new Map<number, string>();
  // One conversion object, refilled for each (judge() keeps nothing of it).
  readonly #c: ConversionRef = { id: 0, name: '', occurredAt: 0, receivedAt: 0, visitor: -1, session: -1, domain: -1, user: -1 };

  constructor(private readonly ctx: EngineContext, private readonly conversions: Conversions, private readonly before: Fingerprints) {}

  /**
   * Conversions [from, to), with the stored outcomes [k, kEnd) of `before`: those from the range's
   * first conversion's id up to (not including) the next range's. `judged(n)` is told every 10,000.
   */
  judge(from: number, to: number, k: number, kEnd: number, judged?: (n: number) => void): void {
    const { ctx, conversions, before } = this;
    if (from < 0 || from > to || to > conversions.length) throw new Error(`There are no conversions ${from}-${to} to judge (${conversions.length} in all).`);
    const activity = ctx.activity;
    const judgement = this.#judgement;
    const c = this.#c;
    for (let i = from; i < to; i++) {
      if (i > from && (i - from) % 10_000 === 0) judged?.(i - from);
      conversions.refAt(i, c);
      if (i > from && c.id <= conversions.idAt(i - 1)) throw new Error(`Conversions must be judged in event id order (${c.id} after ${conversions.idAt(i - 1)}).`);
      judge(c, ctx, judgement);
      if (judgement.reason === null) this.attributed++;
      // A conversion whose goal failed rule 1 was judged before its visitors were resolved.
      const matched = judgement.goalId !== null ? judgement.visitors.size > 0 : namesAVisitor(c, activity, this.#scratch);
      const domain = domainKey(c.domain >= 0 ? this.#domainOf(c.domain) : null, c.session >= 0, c.visitor >= 0);
      this.quality.add(domain, conversions.sourceAt(i), matched, c.receivedAt - c.occurredAt);
      const fp = judgement.fingerprint(activity, this.#print);
      while (k < kEnd && before.ids[k]! < c.id) this.withdrawn.push(before.ids[k++]!);
      const known = k < kEnd && before.ids[k] === c.id;
      const old = known ? before.prints[k++]! : undefined;
      if (old === fp) continue;
      writeOutcome(this.writes, c.id, judgement, activity, fp);
      if (known) this.rewritten.push(c.id);
    }
    while (k < kEnd) this.withdrawn.push(before.ids[k++]!);
    judged?.(to - from);
  }

  #domainOf(d: number): string {
    let name = this.#domains.get(d);
    if (name === undefined) this.#domains.set(d, (name = this.ctx.activity.nameOf(d)));
    return name;
  }
}

/** Judges conversions [from, to) with every stored outcome of `before` (the whole run on one thread). */
export function judgeRange(ctx: EngineContext, conversions: Conversions, from: number, to: number, before: Fingerprints, judged?: (n: number) => void): JudgedRange {
  const r = new RangeJudge(ctx, conversions, before);
  r.judge(from, to, 0, before.ids.length, judged);
  return r;
}

/** Conversions a thread judges at a time when two share a run (claimed in turn, so that neither waits for the other long). */
export const CHUNK = 16_384;

/**
 * What one thread of two judged: chunks of conversions, and per chunk [chunk, outcomes,
 * rewritten, withdrawn] — its index and where its part of each list ends.
 */
export interface JudgedChunks {
  writes: RunWritesParts; rewritten: number[]; withdrawn: number[]; attributed: number; quality: QualityParts;
  chunks: Int32Array;
}

/**
 * Judges chunks of `size` conversions as `claim()` hands them out (a chunk index from a counter
 * both threads share; at or past the last chunk: none left), telling `judged(n)` of each chunk's
 * n. The last chunk is kept for the second thread (`last`), which judges it once none is left to
 * claim: it always has a part, so a run on two threads always puts two parts together. A thread's
 * chunks come in increasing order, as its outcomes must.
 */
export function judgeChunks(
  ctx: EngineContext, conversions: Conversions, before: Fingerprints, size: number, claim: () => number, judged: (n: number) => void, last: boolean,
): JudgedChunks {
  const total = conversions.length;
  const lastChunk = Math.max(0, Math.ceil(total / size) - 1);
  const r = new RangeJudge(ctx, conversions, before);
  const chunks: number[] = [];
  const storedFrom = (i: number) => (i === 0 ? 0 : i === total ? before.ids.length : firstAtOrAbove(before.ids, conversions.idAt(i)));
  const judgeChunk = (chunk: number) => {
    const from = chunk * size;
    const to = Math.min(total, from + size);
    r.judge(from, to, storedFrom(from), storedFrom(to));
    judged(to - from);
    chunks.push(chunk, r.writes.length, r.rewritten.length, r.withdrawn.length);
  };
  for (let chunk = claim(); chunk < lastChunk; chunk = claim()) judgeChunk(chunk);
  if (last) judgeChunk(lastChunk);
  return { writes: r.writes.parts(), rewritten: r.rewritten, withdrawn: r.withdrawn, attributed: r.attributed, quality: r.quality.parts(), chunks: Int32Array.from(chunks) };
}

/** What two threads judged (judgeChunks), put together in chunk order: what one thread judging every conversion finds. */
export function mergeChunks(sides: readonly JudgedChunks[]): JudgedRange {
  const writes = new RunWrites();
  const rewritten: number[] = [];
  const withdrawn: number[] = [];
  const quality = new QualityTally();
  let attributed = 0;
  const order: { side: number; at: number; chunk: number }[] = [];
  const blocks = sides.map((s) => writes.adoptBlocks(s.writes));
  sides.forEach((s, side) => {
    for (let at = 0; at < s.chunks.length; at += 4) order.push({ side, at, chunk: s.chunks[at]! });
    attributed += s.attributed;
    quality.merge(s.quality);
  });
  order.sort((a, b) => a.chunk - b.chunk);
  for (const { side, at } of order) {
    const s = sides[side]!;
    const [outcomes, rewrote, withdrew] = at === 0 ? [0, 0, 0] : [s.chunks[at - 3]!, s.chunks[at - 2]!, s.chunks[at - 1]!];
    writes.appendOutcomes(s.writes, blocks[side]!, outcomes, s.chunks[at + 1]!);
    for (let i = rewrote; i < s.chunks[at + 2]!; i++) rewritten.push(s.rewritten[i]!);
    for (let i = withdrew; i < s.chunks[at + 3]!; i++) withdrawn.push(s.withdrawn[i]!);
  }
  return { writes, rewritten, withdrawn, attributed, quality };
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
