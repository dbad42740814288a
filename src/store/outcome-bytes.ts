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
 *   change:   eventId before after, each 0 (none) or 1 summary
 *
 * Every number is an unsigned LEB128 varint but those marked f64 (instants: little-endian doubles).
 * An outcome's strings are its own (a few each), so a chunk's outcomes are concatenated as they
 * are, and its summary is its restatement's `after` as it is.
 */
export const BINARY = 0x02;

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

/** The changes of a binary restatement chunk. */
export function readChanges(chunk: Uint8Array): OutcomeChange[] {
  const r = new ByteReader(chunk, 1);
  const out: OutcomeChange[] = [];
  const side = (): OutcomeChange['before'] => {
    if (r.u8() === 0) return null;
    const s = readSummary(r);
    return { outcome: s.reason === null ? 'attributed' : 'not_attributed', reason: s.reason, attributions: [...s.attributions] };
  };
  for (let n = r.varint(); n > 0; n--) {
    const eventId = r.varint();
    const before = side();
    out.push({ eventId, before, after: side() });
  }
  return out;
}

/** Whether a stored chunk (text: JSON; bytes: either) holds bytes in this format. */
export const isBinary = (data: string | Uint8Array): data is Uint8Array => typeof data !== 'string' && data.length > 0 && data[0] === BINARY;
