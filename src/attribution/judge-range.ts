import { RunWrites, type RunWritesParts } from '../store/run-writes.js';
import type { WorkspaceWords } from '../store/outcome-bytes.js';
import type { Fingerprints } from '../store/types.js';
import { Fingerprint } from './fingerprint.js';
import { VisitorSet } from './activity.js';
import type { Conversions } from './conversions.js';
import { judge, Judgement, namesAVisitor, type ConversionRef, type EngineContext } from './engine.js';
import { domainKey, QualityTally, type QualityParts } from './quality.js';

/** What judging a run's conversions found. */
export interface JudgedRange {
  /** The outcomes to write: new ones, and changed ones (their fingerprint differs from the stored one). */
  writes: RunWrites;
  /** Conversions in `writes` that had a stored outcome. */
  rewritten: number[];
  /** Stored outcomes whose event is no longer a conversion. */
  withdrawn: number[];
  attributed: number;
  quality: QualityTally;
}

/**
 * Writes the outcome a judgement stands for into the run's writes, in the form the store keeps
 * (outcome-bytes.ts), straight from the judgement's numbers: a first run writes a million of
 * these, and making an Outcome object, then strings, then chunks of strings, cost more than judging.
 */
function writeOutcome(writes: RunWrites, eventId: number, j: Judgement, fingerprint: number): number {
  const s = writes.begin(j.reason, j.goalId);
  if (j.reason === null) {
    for (let k = 0; k < j.attributionCount; k++) {
      const x = j.attributions[k]!;
      writes.attribution(s.word(x.optimization), s.wordName(x.variation), x.viewedAt, s.name(x.visitor));
    }
  }
  writes.summaryEnd();
  for (let k = 0; k < j.visitors.size; k++) writes.visitor(s.name(j.visitors.items[k]!));
  if (j.hasDeciding()) {
    const d = j.deciding;
    writes.deciding(s.word(d.optimization), s.wordName(d.variation), d.viewedAt, s.name(d.visitor), d.sessionStart, d.sessionEnd);
  }
  return writes.end(eventId, fingerprint);
}

/**
 * Judges ranges of a run's conversions (in event id order, each range after the last), tallying
 * data quality on the way, and compares each outcome's fingerprint with the stored one, walking
 * the stored outcomes' ids and fingerprints (`before`, in id order) side by side with the
 * conversions: an unchanged outcome costs a number compared, not a row parsed (nor an Outcome
 * made). Pure: the same range of the same index gives the same answer on any thread.
 */
class RangeJudge implements JudgedRange {
  readonly writes: RunWrites;
  readonly rewritten: number[] = [];
  readonly withdrawn: number[] = [];
  attributed = 0;
  // Data quality, tallied on the way: whether each conversion names a visitor is what judging resolves.
  readonly quality: QualityTally;
  readonly #judgement = new Judgement();
  readonly #print = new Fingerprint();
  readonly #scratch = new VisitorSet();
  readonly #domains = new Map<number, string>();
  // One conversion object, refilled for each (judge() keeps nothing of it).
  readonly #c: ConversionRef = { id: 0, name: '', occurredAt: 0, receivedAt: 0, visitor: -1, session: -1, domain: -1, user: -1 };

  /** `words`: the workspace's, as this thread numbers them (WorkspaceWords); `expected`: about how many outcomes it writes. */
  constructor(private readonly ctx: EngineContext, private readonly conversions: Conversions, private readonly before: Fingerprints, words: WorkspaceWords, expected: number) {
    this.writes = new RunWrites(ctx.activity, expected, words);
    // Every conversion judged is tallied, changed or not: room for as many as it may judge.
    this.quality = new QualityTally(conversions.length);
  }

  /**
   * Conversions [from, to), with the stored outcomes [k, kEnd) of `before`: those from the range's
   * first conversion's id up to (not including) the next range's. `judged(n)` is told every
   * 10,000 of the range's conversions how many it judged.
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
      writeOutcome(this.writes, c.id, judgement, fp);
      if (known) this.rewritten.push(c.id);
    }
    while (k < kEnd) this.withdrawn.push(before.ids[k++]!);
  }

  #domainOf(d: number): string {
    let name = this.#domains.get(d);
    if (name === undefined) this.#domains.set(d, (name = this.ctx.activity.nameOf(d)));
    return name;
  }
}

/** Room for an outcome per conversion not yet judged (a first run writes one for every conversion), of `share` of them. */
const expectedOutcomes = (conversions: Conversions, before: Fingerprints, share = 1) => Math.ceil(Math.max(0, conversions.length - before.ids.length) * share);

/** Judges every conversion of a run, on this thread, with every stored outcome of `before`; `judged(n)` is told every 10,000. */
export function judgeRange(ctx: EngineContext, conversions: Conversions, before: Fingerprints, words: WorkspaceWords, judged?: (n: number) => void): JudgedRange {
  const r = new RangeJudge(ctx, conversions, before, words, expectedOutcomes(conversions, before));
  r.judge(0, conversions.length, 0, before.ids.length, judged);
  return r;
}

/** Conversions a thread judges at a time when two share a run (claimed in turn, so that neither waits long for the other). */
export const CHUNK = 16_384;

/** What one thread of two judged (judgeChunks): its chunks of conversions, and per chunk [chunk, outcomes, rewritten, withdrawn]: its index and where its part of each list ends. */
export interface JudgedChunks {
  range: JudgedRange;
  chunks: Int32Array;
}

/** JudgedChunks as arrays another thread can send (the second thread's answer; mergeChunks() takes it). */
export interface SentChunks {
  writes: RunWritesParts; rewritten: number[]; withdrawn: number[]; attributed: number; quality: QualityParts;
  chunks: Int32Array;
}

export const sendable = ({ range, chunks }: JudgedChunks): SentChunks => ({
  writes: range.writes.parts(), rewritten: range.rewritten, withdrawn: range.withdrawn, attributed: range.attributed, quality: range.quality.parts(), chunks,
});

/** How many chunks of `size` a run of `total` conversions has (judgeChunks). */
export const chunkCount = (total: number, size: number): number => Math.max(1, Math.ceil(total / size));

/**
 * How one thread of two takes its chunks (judgeChunks). `size`: conversions a chunk holds;
 * `claim()`: the next chunk, from a counter both threads share (at or past the last: none left);
 * `judged(n)`: told of each chunk's n; `share`: about the share of the run's outcomes it writes
 * (room made for them at once). `last`: the last chunk is claimed as any other (`claimed`), or
 * kept for the second thread, which judges it once none is left to claim (`kept` for the first,
 * `judged` for the second): tests keep it, so that a small run's second thread always judges a
 * part (it starts tens of milliseconds after the first, which has claimed every other chunk by then).
 */
export interface ChunkClaims {
  size: number;
  claim: () => number;
  judged: (n: number) => void;
  share: number;
  last: 'claimed' | 'kept' | 'judged';
}

/** Judges chunks of a run's conversions as `claims` hands them out. A thread's chunks come in increasing order, as its outcomes must. */
export function judgeChunks(ctx: EngineContext, conversions: Conversions, before: Fingerprints, words: WorkspaceWords, claims: ChunkClaims): JudgedChunks {
  const { size, claim, judged, share, last } = claims;
  const total = conversions.length;
  const count = chunkCount(total, size);
  const r = new RangeJudge(ctx, conversions, before, words, expectedOutcomes(conversions, before, share));
  const chunks: number[] = [];
  const storedFrom = (i: number) => (i === 0 ? 0 : i === total ? before.ids.length : firstAtOrAbove(before.ids, conversions.idAt(i)));
  const judgeChunk = (chunk: number) => {
    const from = chunk * size;
    const to = Math.min(total, from + size);
    r.judge(from, to, storedFrom(from), storedFrom(to));
    judged(to - from);
    chunks.push(chunk, r.writes.length, r.rewritten.length, r.withdrawn.length);
  };
  const claimable = last === 'claimed' ? count : count - 1;
  for (let chunk = claim(); chunk < claimable; chunk = claim()) judgeChunk(chunk);
  if (last === 'judged') judgeChunk(count - 1);
  return { range: r, chunks: Int32Array.from(chunks) };
}

/**
 * What two threads judged (judgeChunks: this one's, and the other's as sent), put together in
 * chunk order into this one's: what one thread judging every conversion finds. The other's
 * outcomes' bytes are adopted, not copied (RunWrites.interleave).
 */
export function mergeChunks(mine: JudgedChunks, theirs: SentChunks): JudgedRange {
  const { writes, quality } = mine.range;
  writes.interleave(pairs(mine.chunks, 1), theirs.writes, pairs(theirs.chunks, 1));
  quality.merge(theirs.quality);
  return {
    writes, quality, attributed: mine.range.attributed + theirs.attributed,
    rewritten: interleaved(mine.range.rewritten, pairs(mine.chunks, 2), theirs.rewritten, pairs(theirs.chunks, 2)),
    withdrawn: interleaved(mine.range.withdrawn, pairs(mine.chunks, 3), theirs.withdrawn, pairs(theirs.chunks, 3)),
  };
}

/** Per chunk of a JudgedChunks' `chunks`: [chunk, where its part of list `list` ends] (1: outcomes, 2: rewritten, 3: withdrawn). */
function pairs(chunks: Int32Array, list: 1 | 2 | 3): Int32Array {
  const out = new Int32Array(chunks.length / 2);
  for (let k = 0; k < chunks.length; k += 4) {
    out[k / 2] = chunks[k]!;
    out[k / 2 + 1] = chunks[k + list]!;
  }
  return out;
}

/** Two lists whose parts belong to chunks (per chunk [chunk, end], as pairs() gives), put together in chunk order. */
function interleaved(a: readonly number[], aEnds: Int32Array, b: readonly number[], bEnds: Int32Array): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < aEnds.length || j < bEnds.length) {
    const fromA = j >= bEnds.length || (i < aEnds.length && aEnds[i]! < bEnds[j]!);
    const [list, ends, k] = fromA ? [a, aEnds, i] : [b, bEnds, j];
    for (let x = k === 0 ? 0 : ends[k - 1]!; x < ends[k + 1]!; x++) out.push(list[x]!);
    if (fromA) i += 2;
    else j += 2;
  }
  return out;
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
