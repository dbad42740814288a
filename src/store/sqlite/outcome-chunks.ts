import type Database from 'better-sqlite3';
import { ByteReader, ByteWriter } from '../../core/bytes.js';
import { f64 } from '../../core/column.js';
import { eachOutcome, isBinary, readKept, readOutcome, readOutcomes, summaryOf, wordsFor, WORDS, writeOutcomeBody, writeSummary, type OutcomeSummary } from '../outcome-bytes.js';
import { jsonChunk, outcomeFromItem, type OutcomeItem } from '../outcome-codec.js';
import type { RunWrites } from '../run-writes.js';
import type { Attributed, Fingerprints, StoredOutcome } from '../types.js';

/** Outcomes per chunk row; a chunk that grows past twice this is split. */
export const OUTCOME_CHUNK = 4_096;

/** Summaries per row of attribution_kept_summaries. */
const KEPT_CHUNK = 10_000;

/** An outcome's summary as bytes (outcome-bytes.ts). */
const writeSummaryBytes = (o: OutcomeSummary): Uint8Array => {
  const out = new ByteWriter(128);
  writeSummary(out, o);
  return out.bytes();
};

interface ChunkRow { id: number; first_event: number; last_event: number; n: number }

/**
 * A chunk's fingerprints as stored: its n fingerprints as little-endian float64s, then its n event
 * ids as varints of their differences (the first from 0), then a zero byte, and one more where
 * that would make 16n bytes: 9-10 bytes an outcome, the run reading every one of them (a million
 * at that scale). Rows of earlier builds hold exactly 16n bytes: float64 pairs (event id,
 * fingerprint). Reads them into ids and prints from `at`; answers where it stopped.
 */
export function readPrints(blob: Uint8Array, n: number, ids: Float64Array, prints: Float64Array, at: number): number {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.byteLength === 16 * n) {
    for (let i = 0; i < n; i++, at++) {
      ids[at] = view.getFloat64(16 * i, true);
      prints[at] = view.getFloat64(16 * i + 8, true);
    }
    return at;
  }
  if (blob.byteLength < 9 * n + 1) throw new RangeError(`A chunk's fingerprints end early (${blob.byteLength} bytes for ${n}).`);
  const r = new ByteReader(blob, 8 * n);
  let id = 0;
  for (let i = 0; i < n; i++, at++) {
    prints[at] = view.getFloat64(8 * i, true);
    ids[at] = id += r.varint();
  }
  return at;
}

/** Writes a chunk's fingerprints as readPrints reads them. */
export function writePrints(out: ByteWriter, n: number, idAt: (i: number) => number, fpAt: (i: number) => number): void {
  const start = out.length;
  for (let i = 0; i < n; i++) out.f64(fpAt(i));
  let last = 0;
  for (let i = 0; i < n; i++) {
    out.varint(idAt(i) - last);
    last = idAt(i);
  }
  out.u8(0);
  if (out.length - start === 16 * n) out.u8(0); // never read as the pairs of an earlier build
}

/** A chunk row's outcomes as stored: bytes (outcome-bytes.ts), or JSON text from a store written before (outcome-codec.ts). */
type ChunkData = string | Uint8Array;

/** Every outcome of a chunk row (`words`: the workspace's, read after the row). */
const outcomesIn = (data: ChunkData, words: readonly string[]): StoredOutcome[] => (isBinary(data) ? readOutcomes(data, words) : jsonChunk<OutcomeItem>(data).map(outcomeFromItem));

/**
 * A workspace's attribution outcomes, stored a few thousand to a row: each row holds the outcomes
 * of a range of event ids (ranges never overlap) as bytes (outcome-bytes.ts; rows a store wrote
 * before hold JSON, outcome-codec.ts, until a run rewrites them), and their fingerprints apart (readPrints).
 * A run that restates a million conversions writes a few hundred rows instead of a million (a
 * row costs microseconds through the driver): 49 MB with their fingerprints (55 with the
 * restatement), assembled from the run's bytes (RunWrites) inside the transaction; a run that
 * changes a few outcomes rewrites the few rows that hold them. Reading one outcome reads its row: milliseconds.
 */
export class OutcomeChunks {
  /** Where a chunk row's data and prints are written, grown once and reused (a run may rewrite hundreds of rows). */
  readonly #data = new ByteWriter();
  readonly #prints = new ByteWriter();

  constructor(private readonly db: Database.Database) {}

  #list(workspaceId: string): ChunkRow[] {
    return this.db.prepare('SELECT id, first_event, last_event, n FROM attribution_outcome_chunks WHERE workspace_id = ? ORDER BY first_event').all(workspaceId) as ChunkRow[];
  }

  #chunk(id: number): ChunkData {
    return this.db.prepare('SELECT data FROM attribution_outcome_chunks WHERE id = ?').pluck().get(id) as ChunkData;
  }

  /**
   * The workspace's words (outcome-bytes.ts), in number order. They only grow, and a row names
   * only words committed with it or before: read after the rows they are to read, they have all
   * those rows name.
   */
  words(workspaceId: string): string[] {
    return this.db.prepare('SELECT value FROM attribution_strings WHERE workspace_id = ? ORDER BY id').pluck().all(workspaceId) as string[];
  }

  get(workspaceId: string, eventId: number): StoredOutcome | null {
    const data = this.db.prepare(`SELECT data FROM attribution_outcome_chunks WHERE workspace_id = ? AND first_event <= ? AND last_event >= ?
      ORDER BY first_event DESC LIMIT 1`).pluck().get(workspaceId, eventId, eventId) as ChunkData | undefined;
    if (data === undefined) return null;
    const words = this.words(workspaceId);
    if (!isBinary(data)) return outcomesIn(data, words).find((o) => o.eventId === eventId) ?? null;
    let found: StoredOutcome | null = null;
    const w = wordsFor(data, words);
    eachOutcome(data, (id, runId, start) => { if (id === eventId) found = readOutcome(new ByteReader(data, start), w, id, runId); });
    return found;
  }

  getMany(workspaceId: string, eventIds: readonly number[]): Map<number, StoredOutcome> {
    const out = new Map<number, StoredOutcome>();
    const wanted = new Set(eventIds);
    if (wanted.size === 0) return out;
    const sorted = [...wanted].sort((a, b) => a - b);
    // One read transaction: the rows and the words they name as of one instant.
    this.db.transaction(() => {
      const words = this.words(workspaceId);
      for (const c of this.#list(workspaceId)) {
        // The first wanted id at or after the chunk's start, by bisection: is it inside the chunk?
        let lo = 0;
        let hi = sorted.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (sorted[mid]! < c.first_event) lo = mid + 1; else hi = mid;
        }
        if (lo === sorted.length || sorted[lo]! > c.last_event) continue;
        const data = this.#chunk(c.id);
        if (!isBinary(data)) for (const o of outcomesIn(data, words)) { if (wanted.has(o.eventId)) out.set(o.eventId, o); }
        else {
          const w = wordsFor(data, words);
          eachOutcome(data, (id, runId, start) => { if (wanted.has(id)) out.set(id, readOutcome(new ByteReader(data, start), w, id, runId)); });
        }
      }
    })();
    return out;
  }

  all(workspaceId: string): Map<number, StoredOutcome> {
    const out = new Map<number, StoredOutcome>();
    const rows = this.db.prepare('SELECT data FROM attribution_outcome_chunks WHERE workspace_id = ? ORDER BY first_event').pluck().all(workspaceId) as ChunkData[];
    const words = this.words(workspaceId);
    for (const data of rows) for (const o of outcomesIn(data, words)) out.set(o.eventId, o);
    return out;
  }

  /**
   * Chunks hold disjoint ranges of ids, each sorted: read in order of their first ids, they list
   * the attributed ones in order. Read a chunk at a time, letting the event loop run between
   * chunks (a million outcomes take a second to parse), with no transaction held open: when a
   * run replaces a chunk meanwhile, the list is read again from the last event seen.
   */
  async attributedTo(workspaceId: string, optimization: string, goalId: number): Promise<Attributed> {
    const eventIds = f64();
    const variations: string[] = [];
    const visitorIds: string[] = [];
    const list = this.db.prepare('SELECT id FROM attribution_outcome_chunks WHERE workspace_id = ? AND last_event > ? ORDER BY first_event').pluck();
    const get = this.db.prepare('SELECT data FROM attribution_outcome_chunks WHERE id = ?').pluck();
    let after = -1;
    let words: string[] = [];
    for (let replaced = true; replaced;) {
      replaced = false;
      for (const id of list.all(workspaceId, after) as number[]) {
        const data = get.get(id) as ChunkData | undefined;
        if (data === undefined) {
          replaced = true;
          break;
        }
        const add = (eventId: number, variation: string, visitorId: string) => {
          eventIds.push(eventId);
          variations.push(variation);
          visitorIds.push(visitorId);
        };
        // The words after the row that names them (they only grow): read again only when the row names one not read yet.
        after = isBinary(data) ? attributedIn(data, () => (words = this.words(workspaceId)), words, after, optimization, goalId, add) : attributedInJson(data, after, optimization, goalId, add);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return { eventIds: eventIds.view(), variations, visitorIds };
  }

  /** Chunks hold disjoint ranges of ids, each sorted: read in order of their first ids, they list every id in order. */
  fingerprints(workspaceId: string): Fingerprints {
    const total = this.db.prepare('SELECT coalesce(sum(n), 0) FROM attribution_outcome_chunks WHERE workspace_id = ?').pluck().get(workspaceId) as number;
    const ids = new Float64Array(total);
    const prints = new Float64Array(total);
    let at = 0;
    this.db.transaction(() => {
      for (const row of this.db.prepare('SELECT n, prints FROM attribution_outcome_chunks WHERE workspace_id = ? ORDER BY first_event').iterate(workspaceId) as Iterable<{ n: number; prints: Buffer }>) {
        if (at + row.n > total) break; // (rows the sum did not count: none, in one transaction)
        at = readPrints(row.prints, row.n, ids, prints, at);
      }
    })();
    return { ids: ids.subarray(0, at), prints: prints.subarray(0, at) };
  }

  /** Puts a run's new and changed outcomes and removes its withdrawn ones (inside the caller's transaction). */
  write(workspaceId: string, runId: number, writes: RunWrites): void {
    const chunks = this.#list(workspaceId);
    if (chunks.length === 0) {
      // A first run: every outcome is new, and they come in event id order.
      this.#insertRows(workspaceId, writes.length, (i) => writes.eventId(i), (out, i) => writes.writeItem(out, i, runId), (i) => writes.fingerprint(i));
      return;
    }
    // The chunk each id belongs to: the last one starting at or before it (the first one for ids before every chunk).
    const chunkOf = (id: number): number => {
      let lo = 0;
      let hi = chunks.length - 1;
      let found = 0;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (chunks[mid]!.first_event <= id) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
      }
      return found;
    };
    const patches = new Map<number, { puts: number[]; removes: Set<number> }>();
    const patchOf = (i: number) => {
      let p = patches.get(i);
      if (p === undefined) patches.set(i, (p = { puts: [], removes: new Set() }));
      return p;
    };
    for (let i = 0; i < writes.length; i++) patchOf(chunkOf(writes.eventId(i))).puts.push(i);
    for (const id of writes.withdrawn()) patchOf(chunkOf(id)).removes.add(id);
    const remove = this.db.prepare('DELETE FROM attribution_outcome_chunks WHERE id = ?');
    // The summaries of the stored outcomes the run replaces or withdraws, kept for the runs that wrote them (outcome-bytes.ts, AS_WRITTEN).
    const kept = new Map<number, { eventId: number; summary: Uint8Array }[]>();
    const keepSummary = (runId: number, eventId: number, summary: Uint8Array) => {
      let list = kept.get(runId);
      if (list === undefined) kept.set(runId, (list = []));
      list.push({ eventId, summary });
    };
    for (const [i, p] of patches) {
      const chunk = chunks[i]!;
      const prints = new Map<number, number>();
      {
        const row = this.db.prepare('SELECT n, prints FROM attribution_outcome_chunks WHERE id = ?').get(chunk.id) as { n: number; prints: Buffer };
        const ids = new Float64Array(row.n);
        const fps = new Float64Array(row.n);
        readPrints(row.prints, row.n, ids, fps, 0);
        for (let k = 0; k < row.n; k++) prints.set(ids[k]!, fps[k]!);
      }
      const put = new Set(p.puts.map((w) => writes.eventId(w)));
      // Kept outcomes as their bytes (eventId, runId, length, body: those of a row an earlier
      // build wrote, as JSON or BINARY, written in this format now); the run's as their index in `writes`.
      const merged = new Map<number, { id: number; item: Uint8Array | number; fp: number }>();
      const keep = (id: number, item: Uint8Array) => { if (!p.removes.has(id)) merged.set(id, { id, item, fp: prints.get(id) ?? 0 }); };
      const data = this.#chunk(chunk.id);
      if (isBinary(data) && data[0] === WORDS) {
        let itemStart = 1 + varintEnd(data, 1);
        eachOutcome(data, (id, runId, start, end) => {
          keep(id, data.subarray(itemStart, end));
          itemStart = end;
          if (put.has(id) || p.removes.has(id)) keepSummary(runId, id, data.subarray(...summaryOf(data, start)));
        });
      } else {
        const out = new ByteWriter(1 << 10);
        for (const o of outcomesIn(data, [])) { // (rows of earlier builds name no words)
          const body = new ByteWriter(256);
          writeOutcomeBody(body, o);
          keep(o.eventId, Buffer.from(out.reset().varint(o.eventId).varint(o.runId).varint(body.length).raw(body.bytes()).bytes()));
          if (put.has(o.eventId) || p.removes.has(o.eventId)) keepSummary(o.runId, o.eventId, Buffer.from(writeSummaryBytes(o)));
        }
      }
      for (const w of p.puts) merged.set(writes.eventId(w), { id: writes.eventId(w), item: w, fp: writes.fingerprint(w) });
      remove.run(chunk.id);
      const items = [...merged.values()].sort((a, b) => a.id - b.id);
      this.#insertRows(workspaceId, items.length, (k) => items[k]!.id, (out, k) => {
        const item = items[k]!.item;
        if (typeof item === 'number') writes.writeItem(out, item, runId);
        else out.raw(item);
      }, (k) => items[k]!.fp);
    }
    const insert = this.db.prepare('INSERT INTO attribution_kept_summaries (run_id, first_event, last_event, data) VALUES (?, ?, ?, ?)');
    const out = this.#data;
    for (const [keptFor, list] of kept) {
      list.sort((a, b) => a.eventId - b.eventId);
      for (let at = 0; at < list.length; at += KEPT_CHUNK) {
        const end = Math.min(list.length, at + KEPT_CHUNK);
        out.reset().u8(WORDS).varint(end - at);
        for (let k = at; k < end; k++) out.varint(list[k]!.eventId).raw(list[k]!.summary);
        insert.run(keptFor, list[at]!.eventId, list[end - 1]!.eventId, out.bytes());
      }
    }
  }

  /**
   * The summaries of the outcomes `runId` wrote for these events, as its restatement names them
   * (AS_WRITTEN): kept by the later run that replaced or withdrew one, or the outcome as it stands.
   * To be called inside a read transaction, so a run committing meanwhile is seen whole or not at all.
   */
  asWritten(workspaceId: string, runId: number, eventIds: readonly number[]): Map<number, OutcomeSummary> {
    const out = new Map<number, OutcomeSummary>();
    if (eventIds.length === 0) return out;
    let lo = Infinity;
    let hi = -Infinity;
    for (const id of eventIds) {
      if (id < lo) lo = id;
      if (id > hi) hi = id;
    }
    const wanted = new Set(eventIds);
    const rows = this.db.prepare('SELECT data FROM attribution_kept_summaries WHERE run_id = ? AND last_event >= ? AND first_event <= ?').pluck().all(runId, lo, hi) as Uint8Array[];
    const words = this.words(workspaceId);
    for (const data of rows) readKept(data, words, wanted, out);
    const rest = eventIds.filter((id) => !out.has(id));
    for (const [id, o] of this.getMany(workspaceId, rest)) out.set(id, o);
    return out;
  }

  /**
   * Inserts n outcomes, in event id order and read through accessors, as chunk rows of
   * OUTCOME_CHUNK (one row when up to twice that): WORDS, their count, then each outcome as
   * `writeAt` writes it (outcome-bytes.ts); their fingerprints as readPrints reads them.
   */
  #insertRows(workspaceId: string, n: number, idAt: (i: number) => number, writeAt: (out: ByteWriter, i: number) => void, fpAt: (i: number) => number): void {
    const insert = this.db.prepare(`INSERT INTO attribution_outcome_chunks (workspace_id, first_event, last_event, n, data, prints)
      VALUES (?, ?, ?, ?, ?, ?)`);
    const data = this.#data;
    const prints = this.#prints;
    const size = n <= 2 * OUTCOME_CHUNK ? n : OUTCOME_CHUNK;
    for (let at = 0; at < n; at += size) {
      const end = Math.min(n, at + size);
      data.reset().u8(WORDS).varint(end - at);
      for (let i = at; i < end; i++) writeAt(data, i);
      writePrints(prints.reset(), end - at, (i) => idAt(at + i), (i) => fpAt(at + i));
      insert.run(workspaceId, idAt(at), idAt(end - 1), end - at, data.bytes(), prints.bytes());
    }
  }
}

/** Where the varint that starts at `at` ends. */
function varintEnd(b: Uint8Array, at: number): number {
  const r = new ByteReader(b, at);
  r.varint();
  return r.at - at;
}

/**
 * Tells `add` of each attribution to `optimization` of the attributed outcomes under `goalId`
 * after event id `after` in a binary chunk, reading only what it needs of each (its goal, then its
 * reason, its strings decoded only when it counts); answers the chunk's last event id. `words`:
 * the workspace's as read so far; `reread` reads them again (a row naming a word added since).
 */
function attributedIn(data: Uint8Array, reread: () => readonly string[], words: readonly string[], after: number, optimization: string, goalId: number,
  add: (eventId: number, variation: string, visitorId: string) => void): number {
  const r = new ByteReader(data);
  const legacy = data[0] !== WORDS;
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Per string of an outcome: where its text is [start, end), or (start < 0) word -start - 1.
  const starts: number[] = [];
  const ends: number[] = [];
  const wanted = Buffer.from(optimization, 'utf8');
  const word = (w: number): string => {
    if (w >= words.length) words = reread();
    const s = words[w];
    if (s === undefined) throw new RangeError(`Outcome bytes name word ${w} of the workspace's ${words.length}.`);
    return s;
  };
  const stringAt = (i: number): string => (starts[i]! < 0 ? word(-starts[i]! - 1) : text.toString('utf8', starts[i]!, ends[i]!));
  let last = after;
  eachOutcome(data, (eventId, _runId, start) => {
    last = eventId;
    if (eventId <= after) return;
    r.at = start;
    if (r.varint() !== goalId + 1) return;
    starts.length = 0;
    ends.length = 0;
    for (let n = r.varint(); n > 0; n--) {
      const x = r.varint();
      if (!legacy && x % 2 === 1) {
        starts.push(-(x - 1) / 2 - 1);
        ends.push(0);
        continue;
      }
      const length = legacy ? x : x / 2;
      starts.push(r.at);
      ends.push(r.at + length);
      r.at += length;
    }
    if (r.varint() !== 0) return; // not attributed
    for (let n = r.varint(); n > 0; n--) {
      const o = r.varint();
      const v = r.varint();
      r.at += 8; // viewedAt
      const visitor = r.varint();
      if (starts[o]! < 0 ? word(-starts[o]! - 1) !== optimization
        : ends[o]! - starts[o]! !== wanted.length || text.compare(wanted, 0, wanted.length, starts[o]!, ends[o]!) !== 0) continue;
      add(eventId, stringAt(v), stringAt(visitor));
    }
  });
  return last;
}

/** attributedIn for a chunk stored as JSON (outcome-codec.ts). */
function attributedInJson(data: string | Uint8Array, after: number, optimization: string, goalId: number, add: (eventId: number, variation: string, visitorId: string) => void): number {
  const items = jsonChunk<OutcomeItem>(data);
  for (const o of items) {
    if (o[0] <= after || o[3] !== null || o[2] !== goalId) continue;
    for (const a of o[4]) if (a[0] === optimization) add(o[0], a[1], a[3]);
  }
  return items.length > 0 ? items[items.length - 1]![0] : after;
}
