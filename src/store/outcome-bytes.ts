import { ByteReader, type ByteWriter } from '../core/bytes.js';
import type { OutcomeChange, StoredOutcome } from './types.js';

/**
 * Attribution outcomes and restatements as bytes (outcome-codec.ts reads the JSON that earlier
 * builds stored). A first run over a million conversions writes a million outcomes: as JSON, 159
 * MB with their restatement, to write from digits and quoted strings, then to copy into the WAL
 * and again into the database; as bytes, 40 MB of outcomes and 6 MB of restatement
 * (`npm run bench:attribution -- --full`), written as numbers.
 *
 * A chunk (a row of attribution_outcome_chunks, attribution_change_chunks or
 * attribution_kept_summaries) starts with the byte WORDS (JSON starts with `[`; BINARY: see
 * below), then the number of items, then the items:
 *
 *   outcome:  eventId runId bodyLength body
 *   body:     goalId+1 | summary | detail                       (bodyLength: readers skip a body whole)
 *   summary:  strings | reason+1 (0: attributed) | n attribution*
 *   attribution: optimization variation viewedAt:f64 visitorId
 *   detail:   strings (more, numbered on from the summary's) | n visitor* | deciding
 *   deciding: 0, or 1 optimization variation viewedAt:f64 visitorId sessionStart:f64 sessionEnd:f64
 *   strings:  n entry*                                         (strings are named by their number)
 *   entry:    2·length utf8, or 2·k+1: the workspace's word k (attribution_strings)
 *   change:   eventId before after: before 0 (none) or 1 summary; after 0 (none), 1 summary, or
 *             AS_WRITTEN (2): the summary of the outcome the run wrote, not copied (see below)
 *   kept:     eventId summary                                  (a row of attribution_kept_summaries)
 *
 * Every number is an unsigned LEB128 varint but those marked f64 (instants: little-endian doubles).
 * An outcome's strings are its own (a few each), so a chunk's outcomes are concatenated as they
 * are, and a summary can be copied from one place to another of the workspace as it is.
 *
 * Words: the optimization keys, variation names and reasons every outcome names (a few, named a
 * million times: 14 of an outcome's 53 bytes as text) are numbered once per workspace, in
 * attribution_strings, which only grows; the run that first names one adds it (WorkspaceWords).
 * Chunks that earlier builds wrote start with BINARY: their entries are all text, `length utf8`.
 *
 * A run's restatement says what each conversion became: the outcome the run wrote. A first run
 * restates every conversion, and a copy of each outcome's summary would be 34 MB more to write
 * (a third of what it writes), so the restatement names the outcome instead (AS_WRITTEN). The
 * outcome stays as the run wrote it until a later run replaces or withdraws it; that run then
 * keeps its summary for the run that wrote it (attribution_kept_summaries, by run and event).
 * Reading a restatement looks there first, then at the outcome as it stands.
 */
export const WORDS = 0x03;

/** The first byte of chunks earlier builds wrote: entries `length utf8`, no words. */
export const BINARY = 0x02;

/** How many words a workspace numbers at the most; strings past them are written as text. */
export const WORDS_MAX = 1 << 16;

/** A workspace's words, in number order; or null: a BINARY chunk's entries (all text, no words). */
export type Words = readonly string[] | null;

/** The words a chunk's entries read with: `words`, or null for a chunk that earlier builds wrote (BINARY). */
export const wordsFor = (chunk: Uint8Array, words: readonly string[]): Words => (chunk[0] === BINARY ? null : words);

/** A change's `after`: the summary of the outcome the same run wrote (see above). */
export const AS_WRITTEN = 2;

type Attribution = StoredOutcome['attributions'][number];

/** What a restatement says an outcome was or became. */
export interface OutcomeSummary {
  /** null: attributed. */
  reason: string | null;
  attributions: readonly Attribution[];
}

/** Where the strings an attribution run names by number are (its ActivityIndex). */
export interface NameBytes {
  /** Writes string k as ByteWriter.literal does, from its UTF-8 bytes (no JS string made). */
  writeBytes(out: ByteWriter, k: number): void;
  nameOf(k: number): string;
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
 * A workspace's words as one run writes them: those stored (attribution_strings) and those it
 * adds, numbered on from them; committed with the run's outcomes (added()). A run's second thread
 * (attribution/judge-thread.ts) numbers with a fixed copy (`grows` false) of the words the run
 * had when it started it: it adds none, writing a string that is not one as text, so that no two
 * strings get the same number.
 */
export class WorkspaceWords {
  readonly #numbers = new Map<string, number>();
  readonly #words: string[];
  /** Per string number of `names` (a run's ActivityIndex) looked up: its word number + 1 (0: not a word, written as text). */
  readonly #byName = new Map<number, number>();

  constructor(readonly stored: readonly string[], private readonly names: NameBytes | null = null, private readonly grows = true) {
    this.#words = [...stored];
    stored.forEach((w, k) => this.#numbers.set(w, k));
  }

  /** The number of word `s`, added when new; -1 when the workspace has WORDS_MAX of them, or when these words do not grow. */
  number(s: string): number {
    let k = this.#numbers.get(s);
    if (k === undefined) {
      if (this.#words.length >= WORDS_MAX || !this.grows) return -1;
      this.#numbers.set(s, (k = this.#words.push(s) - 1));
    }
    return k;
  }

  /** The word number of string k of `names`. */
  numberOfName(k: number): number {
    let n = this.#byName.get(k);
    if (n === undefined) this.#byName.set(k, (n = this.number(this.names!.nameOf(k)) + 1));
    return n - 1;
  }

  /** Every word, stored and added, in number order. */
  list(): readonly string[] {
    return this.#words;
  }

  /** The words this run added, after the stored ones. */
  added(): string[] {
    return this.#words.slice(this.stored.length);
  }
}

/**
 * The strings one outcome names, numbered in the order they are first named, as it writes them:
 * JS strings, strings of a run's ActivityIndex by their number there (written from their bytes
 * without a JS string made), and words (by the workspace's number: no bytes at all). The same
 * string named twice the same way is written once.
 */
export class OutcomeStrings {
  /** Per entry: a JS string, or null for a named one (#ids) or a word (#words); #size of them are this outcome's. */
  readonly #text: (string | null)[] = [];
  readonly #ids: number[] = [];
  readonly #words: number[] = [];
  #size = 0;
  #written = 0;
  /** JS strings' UTF-8 bytes, as written before (a few, named many times). */
  readonly #bytes = new Map<string, Buffer>();

  constructor(private readonly names: NameBytes | null = null, private readonly dictionary: WorkspaceWords | null = null) {}

  reset(): void {
    this.#size = 0;
    this.#written = 0;
  }

  #add(text: string | null, id: number, word: number): number {
    this.#text[this.#size] = text;
    this.#ids[this.#size] = id;
    this.#words[this.#size] = word;
    return this.#size++;
  }

  /** A string written as its text (visitor ids: one a visitor). */
  text(s: string): number {
    for (let i = 0; i < this.#size; i++) if (this.#text[i] === s) return i;
    return this.#add(s, -1, -1);
  }

  /** String k of `names`, written as its text. */
  name(k: number): number {
    for (let i = 0; i < this.#size; i++) if (this.#ids[i] === k) return i;
    return this.#add(null, k, -1);
  }

  /** A word: an optimization key, a variation name, a reason (as text when there is no dictionary, or it is full). */
  word(s: string): number {
    const w = this.dictionary === null ? -1 : this.dictionary.number(s);
    if (w < 0) return this.text(s);
    for (let i = 0; i < this.#size; i++) if (this.#words[i] === w) return i;
    return this.#add(null, -1, w);
  }

  /** String k of `names` as a word. */
  wordName(k: number): number {
    const w = this.dictionary === null ? -1 : this.dictionary.numberOfName(k);
    if (w < 0) return this.name(k);
    for (let i = 0; i < this.#size; i++) if (this.#words[i] === w) return i;
    return this.#add(null, -1, w);
  }

  /** Writes the strings named since the last write (n, then each entry). */
  write(out: ByteWriter): void {
    out.varint(this.#size - this.#written);
    for (; this.#written < this.#size; this.#written++) {
      const s = this.#text[this.#written];
      if (s === null || s === undefined) {
        const w = this.#words[this.#written]!;
        if (w >= 0) out.varint(2 * w + 1);
        else this.names!.writeBytes(out, this.#ids[this.#written]!);
        continue;
      }
      let b = this.#bytes.get(s);
      if (b === undefined) {
        b = Buffer.from(s, 'utf8');
        if (this.#bytes.size < 1024) this.#bytes.set(s, b);
      }
      out.literal(b, 0, b.length);
    }
  }
}

/** Reads an outcome's strings (n, then each entry), adding them to `into`. */
export function readStrings(r: ByteReader, into: string[], words: Words): string[] {
  for (let n = r.varint(); n > 0; n--) {
    if (words === null) {
      into.push(r.string());
      continue;
    }
    const x = r.varint();
    if (x % 2 === 0) into.push(r.utf8(x / 2));
    else {
      const w = words[(x - 1) / 2];
      if (w === undefined) throw new RangeError(`Outcome bytes name word ${(x - 1) / 2} of the workspace's ${words.length}.`);
      into.push(w);
    }
  }
  return into;
}

/** Skips an outcome's strings (`legacy`: a BINARY chunk's). */
function skipStrings(r: ByteReader, legacy: boolean): void {
  for (let n = r.varint(); n > 0; n--) {
    const x = r.varint(); // (not `r.at += r.varint()`: that adds to where the varint started)
    r.at += legacy ? x : x % 2 === 0 ? x / 2 : 0;
  }
}

/** Writes a summary from values: strings | reason+1 | attributions (words through `strings`' dictionary, if it has one). */
export function writeSummary(out: ByteWriter, s: OutcomeSummary, strings = new OutcomeStrings()): OutcomeStrings {
  strings.reset();
  const reason = s.reason === null ? 0 : strings.word(s.reason) + 1;
  const refs = s.attributions.map((a) => [strings.word(a.optimization), strings.word(a.variation), strings.text(a.visitorId)] as const);
  strings.write(out);
  out.varint(reason).varint(s.attributions.length);
  s.attributions.forEach((a, k) => out.varint(refs[k]![0]).varint(refs[k]![1]).f64(a.viewedAt).varint(refs[k]![2]));
  return strings;
}

/** Writes a detail from values, naming strings on from the summary's (`strings`, as writeSummary left it). */
export function writeDetail(out: ByteWriter, visitors: readonly string[], deciding: DecidingDetail | null, strings: OutcomeStrings): void {
  const refs = visitors.map((v) => strings.text(v));
  const d = deciding === null ? null : [strings.word(deciding.optimization), strings.word(deciding.variation), strings.text(deciding.visitorId)] as const;
  strings.write(out);
  out.varint(refs.length);
  for (const r of refs) out.varint(r);
  if (d === null || deciding === null) out.u8(0); // (both null together: the second tells the compiler)
  else out.u8(1).varint(d[0]).varint(d[1]).f64(deciding.viewedAt).varint(d[2]).f64(deciding.sessionStart).f64(deciding.sessionEnd);
}

/** Reads a summary (its strings added to `strings`). */
export function readSummary(r: ByteReader, words: Words, strings: string[] = []): OutcomeSummary {
  readStrings(r, strings, words);
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
export function readOutcome(r: ByteReader, words: Words, eventId: number, runId: number): StoredOutcome {
  const goal = r.varint();
  const strings: string[] = [];
  const { reason, attributions } = readSummary(r, words, strings);
  readStrings(r, strings, words);
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

/** Writes an outcome's body from values (an outcome kept from a chunk an earlier build wrote, rewritten in this format). */
export function writeOutcomeBody(out: ByteWriter, o: StoredOutcome, strings = new OutcomeStrings()): void {
  out.varint(o.goalId === null ? 0 : o.goalId + 1);
  writeSummary(out, o, strings);
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

/** The outcomes of a binary chunk, its words read in `words` (the workspace's). */
export function readOutcomes(chunk: Uint8Array, words: readonly string[]): StoredOutcome[] {
  const out: StoredOutcome[] = [];
  const w = wordsFor(chunk, words);
  eachOutcome(chunk, (eventId, runId, start) => out.push(readOutcome(new ByteReader(chunk, start), w, eventId, runId)));
  return out;
}

/** Skips a summary (`legacy`: a BINARY chunk's); answers where it ends. */
export function skipSummary(r: ByteReader, legacy: boolean): number {
  skipStrings(r, legacy);
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

/** Where the summary of an outcome's body [start, …) in a chunk of this format (WORDS) is: [its start, its end). */
export function summaryOf(chunk: Uint8Array, bodyStart: number): [number, number] {
  if (chunk[0] !== WORDS) throw new Error('summaryOf() reads chunks of this format only (WORDS).');
  const r = new ByteReader(chunk, bodyStart);
  r.varint(); // goal
  const start = r.at;
  return [start, skipSummary(r, false)];
}

type Side = OutcomeChange['after'];

const side = (s: OutcomeSummary): NonNullable<Side> => ({ outcome: s.reason === null ? 'attributed' : 'not_attributed', reason: s.reason, attributions: [...s.attributions] });

/**
 * The changes of a binary restatement chunk, its words read in `words` (the workspace's).
 * `asWritten` is asked once, for the event ids whose `after` is the outcome the run wrote
 * (AS_WRITTEN, in chunk order), and answers their summaries.
 */
export function readChanges(chunk: Uint8Array, words: readonly string[], asWritten: (eventIds: number[]) => Map<number, OutcomeSummary> = noneAsWritten): OutcomeChange[] {
  const r = new ByteReader(chunk, 1);
  const w = wordsFor(chunk, words);
  const out: OutcomeChange[] = [];
  const named: number[] = [];
  for (let n = r.varint(); n > 0; n--) {
    const eventId = r.varint();
    const before = r.u8() === 0 ? null : side(readSummary(r, w));
    const tag = r.u8();
    if (tag === AS_WRITTEN) named.push(out.length);
    out.push({ eventId, before, after: tag === 0 || tag === AS_WRITTEN ? null : side(readSummary(r, w)) });
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

/** Reads a row of attribution_kept_summaries (WORDS, n, then eventId summary each) into `into`, for the ids in `wanted`. */
export function readKept(chunk: Uint8Array, words: readonly string[], wanted: ReadonlySet<number>, into: Map<number, OutcomeSummary>): void {
  const r = new ByteReader(chunk, 1);
  const w = wordsFor(chunk, words);
  for (let n = r.varint(); n > 0; n--) {
    const eventId = r.varint();
    if (wanted.has(eventId)) into.set(eventId, readSummary(r, w));
    else skipSummary(r, w === null);
  }
}

/** Whether a stored chunk (text: JSON; bytes: either) holds bytes (WORDS, or BINARY from an earlier build). */
export const isBinary = (data: string | Uint8Array): data is Uint8Array => typeof data !== 'string' && data.length > 0 && (data[0] === WORDS || data[0] === BINARY);
