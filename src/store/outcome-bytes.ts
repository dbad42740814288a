import { ByteReader, type ByteWriter } from '../core/bytes.js';
import type { OutcomeChange, StoredOutcome } from './types.js';

/**
 * Attribution outcomes and restatements as bytes (outcome-codec.ts reads the JSON that earlier
 * builds stored). A first run over a million conversions writes a million outcomes and as many
 * restatements: as JSON, 159 MB to write from digits and quoted strings, then to copy into the WAL
 * and again into the database; as bytes, 89 MB (55 + 34, `npm run bench:attribution -- --full`),
 * written as numbers.
 *
 * A chunk (a row of attribution_outcome_chunks or attribution_change_chunks) starts with the byte
 * BINARY (JSON starts with `[`), then the number of items, then the items:
 *
 *   outcome:  eventId runId bodyLength body
 *   body:     goalId+1 | summary | detail                       (bodyLength: readers skip a body whole)
 *   summary:  strings | reason+1 (0: attributed) | n attribution*
 *   attribution: optimization variation viewedAt:f64 visitorId
 *   detail:   strings (more, numbered on from the summary's) | n visitor* | deciding
 *   deciding: 0, or 1 optimization variation viewedAt:f64 visitorId sessionStart:f64 sessionEnd:f64
 *   strings:  n (length utf8)*                                 (strings are named by their number)
 *   change:   eventId before after: before 0 (none) or 1 summary; after 0 (none), 1 summary, or
 *             AS_WRITTEN (2): the summary of the outcome the run wrote, not copied (see below)
 *   kept:     eventId summary                                  (a row of attribution_kept_summaries)
 *
 * Every number is an unsigned LEB128 varint but those marked f64 (instants: little-endian doubles).
 * An outcome's strings are its own (a few each), so a chunk's outcomes are concatenated as they
 * are, and a summary can be copied from one place to another as it is.
 *
 * A run's restatement says what each conversion became: the outcome the run wrote. A first run
 * restates every conversion, and a copy of each outcome's summary would be 34 MB more to write
 * (a third of what it writes), so the restatement names the outcome instead (AS_WRITTEN). The
 * outcome stays as the run wrote it until a later run replaces or withdraws it; that run then
 * keeps its summary for the run that wrote it (attribution_kept_summaries, by run and event).
 * Reading a restatement looks there first, then at the outcome as it stands.
 */
export const BINARY = 0x02;

/** A change's `after`: the summary of the outcome the same run wrote (see above). */
export const AS_WRITTEN = 2;

type Attribution = StoredOutcome['attributions'][number];

/** What a restatement says an outcome was or became. */
export interface OutcomeSummary {
  /** null: attributed. */
  reason: string | null;
  attributions: readonly Attribution[];
}

/** Where the strings an attribution run names by number are (its ActivityIndex): each written as ByteWriter.utf8 writes it. */
export interface NameBytes {
  writeBytes(out: ByteWriter, k: number): void;
}

/** The view that decided a session reason, as StoredOutcome.detail.deciding holds it. */
export interface DecidingDetail {
  optimization: string;
  variation: string;
  viewedAt: number;
  visitorId: string;
  sessionStart: number;
  sessionEnd: number;
}

/** One string of a table: its number there. Throws on a number the table does not have. */
const named = (strings: readonly string[], k: number): string => {
  const s = strings[k];
  if (s === undefined) throw new RangeError(`Outcome bytes name string ${k} of ${strings.length}.`);
  return s;
};

/**
 * The strings one outcome names, numbered in the order they are first named, as it writes them:
 * JS strings, and numbers of a workspace's strings (an attribution run's, written from their
 * bytes without a JS string made). The same string named twice the same way is written once.
 */
export class OutcomeStrings {
  /** Per entry: a JS string, or null for a numbered one (#ids); #size of them are this outcome's. */
  readonly #text: (string | null)[] = [];
  readonly #ids: number[] = [];
  #size = 0;
  #written = 0;
  /** JS strings' UTF-8 bytes, as written before (optimization keys and reasons: a few, named a million times). */
  readonly #bytes = new Map<string, Buffer>();

  constructor(private readonly names: NameBytes | null = null) {}

  reset(): void {
    this.#size = 0;
    this.#written = 0;
  }

  text(s: string): number {
    for (let i = 0; i < this.#size; i++) if (this.#text[i] === s) return i;
    this.#text[this.#size] = s;
    this.#ids[this.#size] = -1;
    return this.#size++;
  }

  /** String k of `names`. */
  name(k: number): number {
    for (let i = 0; i < this.#size; i++) if (this.#ids[i] === k) return i;
    this.#text[this.#size] = null;
    this.#ids[this.#size] = k;
    return this.#size++;
  }

  /** Writes the strings named since the last write (n, then each). */
  write(out: ByteWriter): void {
    out.varint(this.#size - this.#written);
    for (; this.#written < this.#size; this.#written++) {
      const s = this.#text[this.#written];
      if (s === null || s === undefined) {
        this.names!.writeBytes(out, this.#ids[this.#written]!);
        continue;
      }
      let b = this.#bytes.get(s);
      if (b === undefined) {
        b = Buffer.from(s, 'utf8');
        if (this.#bytes.size < 1024) this.#bytes.set(s, b);
      }
      out.utf8(b, 0, b.length);
    }
  }
}

/** Writes a summary from values: strings | reason+1 | attributions. */
export function writeSummary(out: ByteWriter, s: OutcomeSummary, strings = new OutcomeStrings()): OutcomeStrings {
  strings.reset();
  const reason = s.reason === null ? 0 : strings.text(s.reason) + 1;
  const refs = s.attributions.map((a) => [strings.text(a.optimization), strings.text(a.variation), strings.text(a.visitorId)] as const);
  strings.write(out);
  out.varint(reason).varint(s.attributions.length);
  s.attributions.forEach((a, k) => out.varint(refs[k]![0]).varint(refs[k]![1]).f64(a.viewedAt).varint(refs[k]![2]));
  return strings;
}

/** Writes a detail from values, naming strings on from the summary's (`strings`, as writeSummary left it). */
export function writeDetail(out: ByteWriter, visitors: readonly string[], deciding: DecidingDetail | null, strings: OutcomeStrings): void {
  const refs = visitors.map((v) => strings.text(v));
  const d = deciding === null ? null : [strings.text(deciding.optimization), strings.text(deciding.variation), strings.text(deciding.visitorId)] as const;
  strings.write(out);
  out.varint(refs.length);
  for (const r of refs) out.varint(r);
  if (d === null || deciding === null) out.u8(0); // (both null together: the second tells the compiler)
  else out.u8(1).varint(d[0]).varint(d[1]).f64(deciding.viewedAt).varint(d[2]).f64(deciding.sessionStart).f64(deciding.sessionEnd);
}

/** Reads a summary (its strings added to `strings`). */
export function readSummary(r: ByteReader, strings: string[] = []): OutcomeSummary {
  r.strings(strings);
  const reason = r.varint();
  const attributions: Attribution[] = [];
  for (let n = r.varint(); n > 0; n--) {
    const optimization = named(strings, r.varint());
    const variation = named(strings, r.varint());
    const viewedAt = r.f64();
    attributions.push({ optimization, variation, viewedAt, visitorId: named(strings, r.varint()) });
  }
  return { reason: reason === 0 ? null : named(strings, reason - 1), attributions };
}

/** Reads an outcome's body (after its eventId, runId and length). */
export function readOutcome(r: ByteReader, eventId: number, runId: number): StoredOutcome {
  const goal = r.varint();
  const strings: string[] = [];
  const { reason, attributions } = readSummary(r, strings);
  r.strings(strings);
  const visitors: string[] = [];
  for (let n = r.varint(); n > 0; n--) visitors.push(named(strings, r.varint()));
  let deciding: DecidingDetail | null = null;
  if (r.u8() === 1) {
    const optimization = named(strings, r.varint());
    const variation = named(strings, r.varint());
    const viewedAt = r.f64();
    const visitorId = named(strings, r.varint());
    deciding = { optimization, variation, viewedAt, visitorId, sessionStart: r.f64(), sessionEnd: r.f64() };
  }
  return {
    eventId, outcome: reason === null ? 'attributed' : 'not_attributed', reason, goalId: goal === 0 ? null : goal - 1,
    attributions: [...attributions], detail: { visitors, deciding }, runId,
  };
}

/** Writes an outcome's body from values (an outcome kept from a JSON chunk, rewritten as bytes). */
export function writeOutcomeBody(out: ByteWriter, o: StoredOutcome): void {
  out.varint(o.goalId === null ? 0 : o.goalId + 1);
  const strings = writeSummary(out, o);
  writeDetail(out, o.detail.visitors, o.detail.deciding as DecidingDetail | null, strings);
}

/** Where each outcome of a binary chunk is: its event id, run id, and body [start, end). */
export function eachOutcome(chunk: Uint8Array, visit: (eventId: number, runId: number, start: number, end: number) => void): void {
  const r = new ByteReader(chunk, 1);
  for (let n = r.varint(); n > 0; n--) {
    const eventId = r.varint();
    const runId = r.varint();
    const length = r.varint();
    if (r.at + length > chunk.length) throw new RangeError('Outcome bytes end early.');
    visit(eventId, runId, r.at, r.at + length);
    r.at += length;
  }
}

/** The outcomes of a binary chunk. */
export function readOutcomes(chunk: Uint8Array): StoredOutcome[] {
  const out: StoredOutcome[] = [];
  eachOutcome(chunk, (eventId, runId, start) => out.push(readOutcome(new ByteReader(chunk, start), eventId, runId)));
  return out;
}

/** Skips a summary; answers where it ends. */
export function skipSummary(r: ByteReader): number {
  for (let n = r.varint(); n > 0; n--) {
    const length = r.varint(); // (not `r.at += r.varint()`: that adds to where the length started)
    r.at += length;
  }
  r.varint();
  for (let n = r.varint(); n > 0; n--) {
    r.varint();
    r.varint();
    r.at += 8;
    r.varint();
  }
  if (r.at > r.buf.length) throw new RangeError('Outcome bytes end early.');
  return r.at;
}

/** Where the summary of an outcome's body [start, …) is: [its start, its end). */
export function summaryOf(chunk: Uint8Array, bodyStart: number): [number, number] {
  const r = new ByteReader(chunk, bodyStart);
  r.varint(); // goal
  const start = r.at;
  return [start, skipSummary(r)];
}

type Side = OutcomeChange['after'];

const side = (s: OutcomeSummary): NonNullable<Side> => ({ outcome: s.reason === null ? 'attributed' : 'not_attributed', reason: s.reason, attributions: [...s.attributions] });

/**
 * The changes of a binary restatement chunk. `asWritten` is asked once, for the event ids whose
 * `after` is the outcome the run wrote (AS_WRITTEN, in chunk order), and answers their summaries.
 */
export function readChanges(chunk: Uint8Array, asWritten: (eventIds: number[]) => Map<number, OutcomeSummary> = noneAsWritten): OutcomeChange[] {
  const r = new ByteReader(chunk, 1);
  const out: OutcomeChange[] = [];
  const named: number[] = [];
  for (let n = r.varint(); n > 0; n--) {
    const eventId = r.varint();
    const before = r.u8() === 0 ? null : side(readSummary(r));
    const tag = r.u8();
    if (tag === AS_WRITTEN) named.push(out.length);
    out.push({ eventId, before, after: tag === 0 || tag === AS_WRITTEN ? null : side(readSummary(r)) });
  }
  if (named.length === 0) return out;
  const summaries = asWritten(named.map((k) => out[k]!.eventId));
  for (const k of named) {
    const c = out[k]!;
    const s = summaries.get(c.eventId);
    if (s === undefined) throw new Error(`The restatement names the outcome its run wrote for event ${c.eventId}, and neither it nor a summary kept of it is stored.`);
    c.after = side(s);
  }
  return out;
}

const noneAsWritten = (eventIds: number[]): Map<number, OutcomeSummary> => {
  throw new Error(`The restatement names the outcomes its run wrote (events ${eventIds.slice(0, 3).join(', ')}…), and no store was given to read them.`);
};

/** Reads a row of attribution_kept_summaries (BINARY, n, then eventId summary each) into `into`, for the ids in `wanted`. */
export function readKept(chunk: Uint8Array, wanted: ReadonlySet<number>, into: Map<number, OutcomeSummary>): void {
  const r = new ByteReader(chunk, 1);
  for (let n = r.varint(); n > 0; n--) {
    const eventId = r.varint();
    if (wanted.has(eventId)) into.set(eventId, readSummary(r));
    else skipSummary(r);
  }
}

/** Whether a stored chunk (text: JSON; bytes: either) holds bytes in this format. */
export const isBinary = (data: string | Uint8Array): data is Uint8Array => typeof data !== 'string' && data.length > 0 && data[0] === BINARY;
