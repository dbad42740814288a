import { ByteReader, ByteWriter } from '../core/bytes.js';
import { f64, i32, type Column } from '../core/column.js';
import { AS_WRITTEN, OutcomeStrings, readSummary, writeDetail, writeSummary, type DecidingDetail, type NameBytes, type OutcomeSummary, type WorkspaceWords } from './outcome-bytes.js';
import type { StoredOutcome } from './types.js';

/** Bytes per block of outcomes: a first run's ~40 MB in blocks, never copied to grow. */
const BLOCK = 4 << 20;
/** Where an outcome starts, as one number: its block times SPAN, plus where in the block. */
const SPAN = 2 * BLOCK;

/** An outcome given as values (RunWrites.add). */
export interface OutcomeValues {
  eventId: number;
  /** null: attributed. */
  reason: string | null;
  goalId: number | null;
  fingerprint: number;
  attributions: StoredOutcome['attributions'];
  visitors: readonly string[];
  deciding: DecidingDetail | null;
}

/** A RunWrites' outcomes as arrays another thread can send (RunWrites.parts; interleave() takes them). */
export interface RunWritesParts {
  /** The blocks of bytes, each as long as what was written in it. */
  blocks: Uint8Array[];
  eventId: Float64Array;
  fingerprint: Float64Array;
  /** Per outcome, its reason's index in `reasons`. */
  reason: Int32Array;
  reasons: (string | null)[];
  /** Per outcome: its block times SPAN plus where its body starts there, and where it ends. */
  at: Float64Array;
  bodyEnd: Int32Array;
}

/**
 * What one attribution run writes: its new and changed outcomes (in event id order), the stored
 * outcomes it withdraws, and its restatement (what changed for whom). Outcomes are kept as bytes
 * in the form the store keeps them (outcome-bytes.ts), written by the run straight from its
 * numbers into a few large blocks, with their other fields in typed columns: a first run writes
 * a million outcomes, and a million outcomes' strings lived long enough to cost the collector
 * more than judging them. The store adds each outcome's event id, run id and length when it
 * writes it; a restatement's `after` names the outcome (AS_WRITTEN).
 *
 * A run writes an outcome in this order: begin() (its goal and reason), attribution() for each,
 * summaryEnd(), visitor() for each, deciding() when one decided, end(). Strings are named by
 * their number in the outcome's own table (the `strings` that begin() answers).
 */
export class RunWrites {
  readonly #blocks: ByteWriter[] = [];
  /** Blocks before this one are another RunWrites' (interleave): not written into. */
  #sealed = 0;
  readonly #eventId: Column<Float64Array>;
  readonly #fingerprint: Column<Float64Array>;
  /** Per outcome, its reason as a number in #reasons (a few strings, named a million times: no array of a million strings to grow). */
  readonly #reason: Column<Int32Array>;
  readonly #reasons: (string | null)[] = [];
  readonly #reasonNumbers = new Map<string | null, number>();
  /** Per outcome: where its body starts (its goal), as its block times SPAN plus where in the block, and where its body ends in that block. */
  readonly #at: Column<Float64Array>;
  readonly #bodyEnd: Column<Int32Array>;
  readonly #strings: OutcomeStrings;
  /** The strings of outcomes given as values, and of what restated outcomes were (writeSummary's). */
  readonly #valueStrings: OutcomeStrings;
  /**
   * The outcome being written (scalars, not an object: a first run writes a million): whether one
   * is begun (1) and its summary written (2), its reason and that string's number + 1 (0:
   * attributed), its goal, and where its body starts.
   */
  #state = 0;
  #reasonOpen: string | null = null;
  #reasonRef = 0;
  #goalOpen: number | null = null;
  #startOpen = 0;
  /** The open outcome's attributions (string numbers and instants), visitors and deciding view, written by summaryEnd() and end(). */
  readonly #attributions: number[] = [];
  readonly #viewedAt: number[] = [];
  #attributionCount = 0;
  readonly #visitors: number[] = [];
  #visitorCount = 0;
  readonly #deciding = [0, 0, 0, 0, 0, 0];
  #hasDeciding = false;
  /** Restated outcomes (indexes into the outcomes), with where the summary of what each was is in #befores (-1: it had no outcome). */
  readonly #restated: Column<Int32Array>;
  readonly #beforeAt: Column<Int32Array>;
  readonly #beforeEnd: Column<Int32Array>;
  readonly #befores = new ByteWriter(1 << 10);
  readonly #withdrawn = f64();
  readonly #withdrawnAt = i32();
  readonly #withdrawnEnd = i32();

  /**
   * `names`: where the strings a run names by number are (its ActivityIndex); none for outcomes
   * given as values. `expected`: about how many outcomes it writes (room made at once: a first run
   * writes a million, and growing a column copies it). `words`: the workspace's words, the run
   * adding those it names first (none: every string written as text).
   */
  constructor(names: NameBytes | null = null, expected = 256, readonly words: WorkspaceWords | null = null) {
    this.#strings = new OutcomeStrings(names, words);
    this.#valueStrings = new OutcomeStrings(null, words);
    const room = Math.max(16, expected);
    this.#restated = i32(room);
    this.#beforeAt = i32(room);
    this.#beforeEnd = i32(room);
    this.#eventId = f64(room);
    this.#fingerprint = f64(room);
    this.#at = f64(room);
    this.#bodyEnd = i32(room);
    this.#reason = i32(room);
  }

  /** How many outcomes the run writes. */
  get length(): number {
    return this.#eventId.length;
  }

  #out(): ByteWriter {
    let out = this.#blocks[this.#blocks.length - 1];
    if (out === undefined || this.#blocks.length <= this.#sealed || out.length > BLOCK - (64 << 10)) this.#blocks.push((out = new ByteWriter(BLOCK)));
    return out;
  }

  /** Begins an outcome; answers the table its strings are numbered in. */
  begin(reason: string | null, goalId: number | null): OutcomeStrings {
    if (this.#state !== 0) throw new Error('An outcome was begun before the last one ended.');
    this.#strings.reset();
    this.#attributionCount = 0;
    this.#visitorCount = 0;
    this.#hasDeciding = false;
    this.#state = 1;
    this.#reasonOpen = reason;
    this.#reasonRef = reason === null ? 0 : this.#strings.word(reason) + 1;
    this.#goalOpen = goalId;
    return this.#strings;
  }

  attribution(optimization: number, variation: number, viewedAt: number, visitor: number): void {
    const k = this.#attributionCount++;
    this.#attributions[3 * k] = optimization;
    this.#attributions[3 * k + 1] = variation;
    this.#attributions[3 * k + 2] = visitor;
    this.#viewedAt[k] = viewedAt;
  }

  /** Writes the outcome's summary (its strings so far, reason and attributions): what a restatement says it became. */
  summaryEnd(): void {
    if (this.#state !== 1) throw new Error('summaryEnd() comes once, after begin().');
    this.#state = 2;
    const out = this.#out();
    this.#startOpen = out.length;
    out.varint(this.#goalOpen === null ? 0 : this.#goalOpen + 1);
    this.#strings.write(out);
    out.varint(this.#reasonRef).varint(this.#attributionCount);
    for (let k = 0; k < this.#attributionCount; k++) {
      out.varint(this.#attributions[3 * k]!).varint(this.#attributions[3 * k + 1]!).f64(this.#viewedAt[k]!).varint(this.#attributions[3 * k + 2]!);
    }
  }

  visitor(visitor: number): void {
    this.#visitors[this.#visitorCount++] = visitor;
  }

  deciding(optimization: number, variation: number, viewedAt: number, visitor: number, sessionStart: number, sessionEnd: number): void {
    const d = this.#deciding;
    d[0] = optimization;
    d[1] = variation;
    d[2] = viewedAt;
    d[3] = visitor;
    d[4] = sessionStart;
    d[5] = sessionEnd;
    this.#hasDeciding = true;
  }

  /** Closes the outcome begun; answers its index. */
  end(eventId: number, fingerprint: number): number {
    if (this.#state !== 2) throw new Error('An outcome\'s summary must be written before it ends.');
    const n = this.length;
    if (n > 0 && eventId <= this.#eventId.get(n - 1)) throw new Error(`Outcomes must be written in event id order (${eventId} after ${this.#eventId.get(n - 1)}).`);
    const out = this.#blocks[this.#blocks.length - 1]!;
    this.#strings.write(out);
    out.varint(this.#visitorCount);
    for (let k = 0; k < this.#visitorCount; k++) out.varint(this.#visitors[k]!);
    const d = this.#deciding;
    if (!this.#hasDeciding) out.u8(0);
    else out.u8(1).varint(d[0]!).varint(d[1]!).f64(d[2]!).varint(d[3]!).f64(d[4]!).f64(d[5]!);
    this.#eventId.push(eventId);
    this.#fingerprint.push(fingerprint);
    this.#reason.push(this.#reasonNumber(this.#reasonOpen));
    this.#at.push((this.#blocks.length - 1) * SPAN + this.#startOpen);
    this.#bodyEnd.push(out.length);
    this.#state = 0;
    return n;
  }

  /** Adds an outcome given as values (tests, and callers with few outcomes); answers its index. */
  add(o: OutcomeValues): number {
    const out = this.#out();
    const start = out.length;
    out.varint(o.goalId === null ? 0 : o.goalId + 1);
    const strings = writeSummary(out, o, this.#valueStrings);
    writeDetail(out, o.visitors, o.deciding, strings);
    const n = this.length;
    if (n > 0 && o.eventId <= this.#eventId.get(n - 1)) throw new Error(`Outcomes must be written in event id order (${o.eventId} after ${this.#eventId.get(n - 1)}).`);
    this.#eventId.push(o.eventId);
    this.#fingerprint.push(o.fingerprint);
    this.#reason.push(this.#reasonNumber(o.reason));
    this.#at.push((this.#blocks.length - 1) * SPAN + start);
    this.#bodyEnd.push(out.length);
    return n;
  }

  /**
   * The outcomes as arrays, to send to another thread with their memory moved (the blocks'
   * buffers are each their own: BLOCK is past Buffer's pool). Restatements are not included: a
   * run records them once its outcomes are put together.
   */
  parts(): RunWritesParts {
    if (this.changes > 0) throw new Error('RunWrites.parts: restatements are recorded once the outcomes are put together.');
    if (this.#state !== 0) throw new Error('RunWrites.parts: an outcome is still being written.');
    return {
      blocks: this.#blocks.map((b) => b.bytes()), eventId: this.#eventId.view(), fingerprint: this.#fingerprint.view(), reason: this.#reason.view(),
      reasons: [...this.#reasons], at: this.#at.view(), bodyEnd: this.#bodyEnd.view(),
    };
  }

  /**
   * Puts the outcomes of another RunWrites (its parts(): another thread's) among this one's, in
   * place, by ranges: `mine` and `theirs` give per range [range, end], where each side's outcomes
   * of that range end in its own order (ranges of conversions in event id order, each judged by
   * one side, in increasing order on each). Their bytes are adopted, not copied; this side's
   * outcomes move up, last range first, to make room for theirs (no second copy of the columns).
   */
  interleave(mine: Int32Array, other: RunWritesParts, theirs: Int32Array): void {
    if (this.#state !== 0 || this.changes > 0) throw new Error('RunWrites.interleave: only outcomes, each ended, are put together.');
    const own = this.length;
    if ((mine.length > 0 ? mine[mine.length - 1]! : 0) !== own || (theirs.length > 0 ? theirs[theirs.length - 1]! : 0) !== other.eventId.length) {
      throw new Error('RunWrites.interleave: the ranges do not cover the outcomes.');
    }
    const blocks = this.#blocks.length;
    for (const b of other.blocks) this.#blocks.push(ByteWriter.adopt(b));
    // Written into no more: outcomes written here begin a block after them.
    this.#sealed = this.#blocks.length;
    const reasons = Int32Array.from(other.reasons, (r) => this.#reasonNumber(r));
    const total = own + other.eventId.length;
    const columns = [this.#eventId, this.#fingerprint, this.#reason, this.#at, this.#bodyEnd];
    for (const c of columns) {
      c.reserve(total - own);
      c.length = total;
    }
    const [eventId, fingerprint, reason, at, bodyEnd] = [this.#eventId.view(), this.#fingerprint.view(), this.#reason.view(), this.#at.view(), this.#bodyEnd.view()];
    const shift = blocks * SPAN;
    // From the last range down: `to` is where the range's outcomes end once put together.
    let to = total;
    let m = mine.length - 2;
    let t = theirs.length - 2;
    while (m >= 0 || t >= 0) {
      if (t < 0 || (m >= 0 && mine[m]! > theirs[t]!)) {
        const from = m >= 2 ? mine[m - 1]! : 0;
        const end = mine[m + 1]!;
        const n = end - from;
        if (to - n !== from) for (const a of [eventId, fingerprint, reason, at, bodyEnd]) a.copyWithin(to - n, from, end);
        to -= n;
        m -= 2;
      } else {
        const from = t >= 2 ? theirs[t - 1]! : 0;
        const end = theirs[t + 1]!;
        const n = end - from;
        to -= n;
        eventId.set(other.eventId.subarray(from, end), to);
        fingerprint.set(other.fingerprint.subarray(from, end), to);
        bodyEnd.set(other.bodyEnd.subarray(from, end), to);
        for (let i = from, j = to; i < end; i++, j++) {
          reason[j] = reasons[other.reason[i]!]!;
          at[j] = other.at[i]! + shift;
        }
        t -= 2;
      }
    }
    for (let i = 1; i < total; i++) {
      if (eventId[i]! <= eventId[i - 1]!) throw new Error(`RunWrites.interleave: outcomes out of event id order (${eventId[i]} after ${eventId[i - 1]}).`);
    }
  }

  /** Records that outcome i restates its conversion: what it was before (null: it had no outcome). */
  restate(i: number, before: OutcomeSummary | null): void {
    this.#restated.push(i);
    this.#beforeAt.push(before === null ? -1 : this.#before(before));
    this.#beforeEnd.push(this.#befores.length);
  }

  /** Records that a stored outcome is withdrawn (its event is no longer a conversion), with what it was. */
  withdraw(eventId: number, before: OutcomeSummary): void {
    this.#withdrawn.push(eventId);
    this.#withdrawnAt.push(this.#before(before));
    this.#withdrawnEnd.push(this.#befores.length);
  }

  #before(s: OutcomeSummary): number {
    const at = this.#befores.length;
    writeSummary(this.#befores, s, this.#valueStrings);
    return at;
  }

  #reasonNumber(reason: string | null): number {
    let k = this.#reasonNumbers.get(reason);
    if (k === undefined) this.#reasonNumbers.set(reason, (k = this.#reasons.push(reason) - 1));
    return k;
  }

  eventId(i: number): number {
    return this.#eventId.get(i);
  }

  fingerprint(i: number): number {
    return this.#fingerprint.get(i);
  }

  reason(i: number): string | null {
    return this.#reasons[this.#reason.get(i)]!;
  }

  /** Outcome i's attributions, read back from its bytes. */
  attributions(i: number): StoredOutcome['attributions'] {
    const at = this.#at.get(i);
    const block = Math.floor(at / SPAN);
    const r = new ByteReader(this.#blocks[block]!.bytes(), at - block * SPAN);
    r.varint(); // goal
    return [...readSummary(r, this.words?.list() ?? []).attributions];
  }

  /** The withdrawn outcomes' event ids, in the order withdraw() was told them. */
  withdrawn(): Float64Array {
    return this.#withdrawn.view();
  }

  /** How many restatements the run records: restated outcomes and withdrawn ones. */
  get changes(): number {
    return this.#restated.length + this.#withdrawn.length;
  }

  /** Writes outcome i as a chunk holds it: eventId, runId, its body's length, its body. */
  writeItem(out: ByteWriter, i: number, runId: number): void {
    const at = this.#at.get(i);
    const block = Math.floor(at / SPAN);
    const start = at - block * SPAN;
    const end = this.#bodyEnd.get(i);
    out.varint(this.eventId(i)).varint(runId).varint(end - start).raw(this.#blocks[block]!.buffer, start, end);
  }

  /** Writes restatement k (restated outcomes first, then withdrawn ones): eventId, before (0: none, or 1 and a summary), after (0: none, or AS_WRITTEN: the outcome written). */
  writeChange(out: ByteWriter, k: number): void {
    const befores = this.#befores.buffer;
    if (k >= this.#restated.length) {
      const w = k - this.#restated.length;
      out.varint(this.#withdrawn.get(w)).u8(1).raw(befores, this.#withdrawnAt.get(w), this.#withdrawnEnd.get(w)).u8(0);
      return;
    }
    const i = this.#restated.get(k);
    out.varint(this.eventId(i));
    const at = this.#beforeAt.get(k);
    if (at < 0) out.u8(0);
    else out.u8(1).raw(befores, at, this.#beforeEnd.get(k));
    out.u8(AS_WRITTEN);
  }
}
