import { f64, i32 } from '../core/column.js';
import { JsonBytes } from '../core/json-bytes.js';
import type { DecidingDetail } from './outcome-codec.js';
import type { StoredOutcome } from './types.js';

/** Bytes per block of outcome JSON: a first run's ~90 MB in blocks, never copied to grow. */
const BLOCK = 4 << 20;

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

/**
 * What one attribution run writes: its new and changed outcomes (in event id order), the stored
 * outcomes it withdraws, and its restatement (what changed for whom). Outcomes are kept as JSON
 * bytes in the form the store keeps them (outcome-codec.ts), written by the run straight from
 * its numbers into a few large blocks, with their other fields in typed columns: a first run
 * writes a million outcomes, and a million outcomes' strings lived long enough to cost the
 * collector more than judging them. The store adds each outcome's run id when it writes it.
 *
 * An outcome i's attributions are `[[optimization, variation, viewedAt, visitorId], …]` and its
 * detail `[[visitorId, …], deciding]`.
 */
export class RunWrites {
  readonly #blocks: JsonBytes[] = [];
  readonly #eventId = f64();
  readonly #fingerprint = f64();
  /** NaN: no goal. */
  readonly #goalId = f64();
  readonly #reason: (string | null)[] = [];
  readonly #block = i32();
  readonly #start = i32();
  readonly #split = i32();
  readonly #end = i32();
  /** Where the outcome being written starts, and where its detail starts (-1: not yet). */
  #openStart = -1;
  #openSplit = -1;
  /** Restated outcomes (indexes into the outcomes), with what each was before (summary JSON; null: none). */
  readonly #restated = i32();
  readonly #before: (string | null)[] = [];
  readonly #withdrawn = f64();
  readonly #withdrawnBefore: string[] = [];

  /** How many outcomes the run writes. */
  get length(): number {
    return this.#eventId.length;
  }

  /**
   * Where the next outcome's attributions are written, then (after detailOut()) its detail; end()
   * closes it.
   */
  attributionsOut(): JsonBytes {
    let out = this.#blocks[this.#blocks.length - 1];
    if (out === undefined || out.length > BLOCK - (64 << 10)) this.#blocks.push((out = new JsonBytes(BLOCK)));
    this.#openStart = out.length;
    this.#openSplit = -1;
    return out;
  }

  detailOut(): JsonBytes {
    const out = this.#blocks[this.#blocks.length - 1]!;
    this.#openSplit = out.length;
    return out;
  }

  /** Closes the outcome written since attributionsOut(); answers its index. */
  end(eventId: number, reason: string | null, goalId: number | null, fingerprint: number): number {
    const start = this.#openStart;
    const split = this.#openSplit;
    if (start < 0 || split < 0) throw new Error('An outcome\'s attributions and detail must be written before it ends.');
    const n = this.length;
    if (n > 0 && eventId <= this.#eventId.get(n - 1)) throw new Error(`Outcomes must be written in event id order (${eventId} after ${this.#eventId.get(n - 1)}).`);
    this.#eventId.push(eventId);
    this.#fingerprint.push(fingerprint);
    this.#goalId.push(goalId ?? Number.NaN);
    this.#reason.push(reason);
    this.#block.push(this.#blocks.length - 1);
    this.#start.push(start);
    this.#split.push(split);
    this.#end.push(this.#blocks[this.#blocks.length - 1]!.length);
    this.#openStart = -1;
    this.#openSplit = -1;
    return n;
  }

  /** Adds an outcome given as values (tests, and callers with few outcomes); answers its index. */
  add(o: OutcomeValues): number {
    const out = this.attributionsOut().char('[');
    o.attributions.forEach((a, k) => {
      if (k > 0) out.char(',');
      out.char('[').string(a.optimization).char(',').string(a.variation).char(',').num(a.viewedAt).char(',').string(a.visitorId).char(']');
    });
    out.char(']');
    this.detailOut().char('[').char('[');
    o.visitors.forEach((v, k) => (k > 0 ? out.char(',') : out).string(v));
    out.char(']').char(',');
    const d = o.deciding;
    if (d === null) out.ascii('null');
    else out.char('[').string(d.optimization).char(',').string(d.variation).char(',').num(d.viewedAt).char(',').string(d.visitorId)
      .char(',').num(d.sessionStart).char(',').num(d.sessionEnd).char(']');
    out.char(']');
    return this.end(o.eventId, o.reason, o.goalId, o.fingerprint);
  }

  /** Records that outcome i restates its conversion: `before` is summaryJson() of what it was (null: it had no outcome). */
  restate(i: number, before: string | null): void {
    this.#restated.push(i);
    this.#before.push(before);
  }

  /** Records that a stored outcome is withdrawn (its event is no longer a conversion), with summaryJson() of what it was. */
  withdraw(eventId: number, before: string): void {
    this.#withdrawn.push(eventId);
    this.#withdrawnBefore.push(before);
  }

  eventId(i: number): number {
    return this.#eventId.get(i);
  }

  fingerprint(i: number): number {
    return this.#fingerprint.get(i);
  }

  reason(i: number): string | null {
    return this.#reason[i]!;
  }

  /** Outcome i's attributions JSON, as attributionsJson() writes it. */
  attributionsText(i: number): string {
    return this.#blocks[this.#block.get(i)]!.text(this.#start.get(i), this.#split.get(i));
  }

  /** The withdrawn outcomes' event ids, in the order withdraw() was told them. */
  withdrawn(): Float64Array {
    return this.#withdrawn.view();
  }

  /** How many restatements the run records: restated outcomes and withdrawn ones. */
  get changes(): number {
    return this.#restated.length + this.#withdrawn.length;
  }

  /** Writes outcome i as its store item: [eventId, runId, goalId, reason, attributions, detail]. */
  writeItem(out: JsonBytes, i: number, runId: number): void {
    const goalId = this.#goalId.get(i);
    const block = this.#blocks[this.#block.get(i)]!.bytes();
    out.char('[').num(this.eventId(i)).char(',').num(runId).char(',').num(Number.isNaN(goalId) ? null : goalId).char(',').string(this.reason(i)).char(',')
      .raw(block, this.#start.get(i), this.#split.get(i)).char(',').raw(block, this.#split.get(i), this.#end.get(i)).char(']');
  }

  /** Writes restatement k (restated outcomes first, then withdrawn ones) as [eventId, before, after], each null | [reason, attributions]. */
  writeChange(out: JsonBytes, k: number): void {
    if (k >= this.#restated.length) {
      const w = k - this.#restated.length;
      out.char('[').num(this.#withdrawn.get(w)).char(',').raw(Buffer.from(this.#withdrawnBefore[w]!, 'utf8')).ascii(',null]');
      return;
    }
    const i = this.#restated.get(k);
    const before = this.#before[k]!;
    out.char('[').num(this.eventId(i)).char(',');
    if (before === null) out.ascii('null');
    else out.raw(Buffer.from(before, 'utf8'));
    out.char(',').char('[').string(this.reason(i)).char(',').raw(this.#blocks[this.#block.get(i)]!.bytes(), this.#start.get(i), this.#split.get(i)).ascii(']]');
  }
}
