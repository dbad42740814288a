import type Database from 'better-sqlite3';
import { f64 } from '../../core/column.js';
import { JsonBytes } from '../../core/json-bytes.js';
import { outcomeFromItem, type OutcomeItem } from '../outcome-codec.js';
import type { RunWrites } from '../run-writes.js';
import type { Attributed, Fingerprints, StoredOutcome } from '../types.js';

/** Outcomes per chunk row; a chunk that grows past twice this is split. */
export const OUTCOME_CHUNK = 4_096;

interface ChunkRow { id: number; first_event: number; last_event: number; n: number }

/**
 * A chunk's fingerprints as stored: float64 pairs (event id, fingerprint), little-endian. A run
 * reads every one of them (a million at that scale: as JSON text, 25 MB and 0.4 s to parse).
 */
export function printsOf(blob: Uint8Array): Float64Array {
  const n = blob.byteLength >>> 3;
  // Typed-array views need aligned offsets; a blob handed over by a driver may sit anywhere.
  return blob.byteOffset % 8 === 0 ? new Float64Array(blob.buffer, blob.byteOffset, n) : new Float64Array(Uint8Array.from(blob).buffer, 0, n);
}

/**
 * A workspace's attribution outcomes, stored a few thousand to a row: each row holds the outcomes
 * of a range of event ids (ranges never overlap) as a JSON array of arrays (outcome-codec.ts),
 * and their fingerprints apart (printsOf).
 * A run that restates a million conversions writes a few hundred rows instead of a million (a
 * row costs microseconds through the driver): 150 MB with its restatement, assembled from the
 * run's JSON bytes (RunWrites) inside the transaction, which holds the write lock for about 2 s
 * (`npm run bench:attribution -- --full`, first run); a run that changes a few outcomes rewrites
 * the few rows that hold them. Reading one outcome parses its row's JSON: milliseconds.
 */
export class OutcomeChunks {
  /** Where a chunk row's data and prints are written, grown once and reused (a run may rewrite hundreds of rows). */
  readonly #data = new JsonBytes();
  #prints = new Float64Array(2 * OUTCOME_CHUNK);

  constructor(private readonly db: Database.Database) {}

  #list(workspaceId: string): ChunkRow[] {
    return this.db.prepare('SELECT id, first_event, last_event, n FROM attribution_outcome_chunks WHERE workspace_id = ? ORDER BY first_event').all(workspaceId) as ChunkRow[];
  }

  #items(id: number): OutcomeItem[] {
    return JSON.parse(this.db.prepare('SELECT data FROM attribution_outcome_chunks WHERE id = ?').pluck().get(id) as string) as OutcomeItem[];
  }

  get(workspaceId: string, eventId: number): StoredOutcome | null {
    const data = this.db.prepare(`SELECT data FROM attribution_outcome_chunks WHERE workspace_id = ? AND first_event <= ? AND last_event >= ?
      ORDER BY first_event DESC LIMIT 1`).pluck().get(workspaceId, eventId, eventId) as string | undefined;
    if (data === undefined) return null;
    const item = (JSON.parse(data) as OutcomeItem[]).find((o) => o[0] === eventId);
    return item === undefined ? null : outcomeFromItem(item);
  }

  getMany(workspaceId: string, eventIds: readonly number[]): Map<number, StoredOutcome> {
    const out = new Map<number, StoredOutcome>();
    const wanted = new Set(eventIds);
    if (wanted.size === 0) return out;
    const sorted = [...wanted].sort((a, b) => a - b);
    for (const c of this.#list(workspaceId)) {
      // The first wanted id at or after the chunk's start, by bisection: is it inside the chunk?
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid]! < c.first_event) lo = mid + 1; else hi = mid;
      }
      if (lo === sorted.length || sorted[lo]! > c.last_event) continue;
      for (const o of this.#items(c.id)) if (wanted.has(o[0])) out.set(o[0], outcomeFromItem(o));
    }
    return out;
  }

  all(workspaceId: string): Map<number, StoredOutcome> {
    const out = new Map<number, StoredOutcome>();
    for (const data of this.db.prepare('SELECT data FROM attribution_outcome_chunks WHERE workspace_id = ? ORDER BY first_event').pluck().all(workspaceId) as string[]) {
      for (const o of JSON.parse(data) as OutcomeItem[]) out.set(o[0], outcomeFromItem(o));
    }
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
    for (let replaced = true; replaced;) {
      replaced = false;
      for (const id of list.all(workspaceId, after) as number[]) {
        const json = get.get(id) as string | undefined;
        if (json === undefined) {
          replaced = true;
          break;
        }
        const items = JSON.parse(json) as OutcomeItem[];
        for (const o of items) {
          if (o[0] <= after || o[3] !== null || o[2] !== goalId) continue;
          for (const a of o[4]) {
            if (a[0] !== optimization) continue;
            eventIds.push(o[0]);
            variations.push(a[1]);
            visitorIds.push(a[3]);
          }
        }
        if (items.length > 0) after = items[items.length - 1]![0];
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
      for (const blob of this.db.prepare('SELECT prints FROM attribution_outcome_chunks WHERE workspace_id = ? ORDER BY first_event').pluck().iterate(workspaceId) as Iterable<Buffer>) {
        const pairs = printsOf(blob);
        for (let i = 0; i < pairs.length && at < total; i += 2, at++) {
          ids[at] = pairs[i]!;
          prints[at] = pairs[i + 1]!;
        }
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
    for (const [i, p] of patches) {
      const chunk = chunks[i]!;
      const prints = new Map<number, number>();
      const pairs = printsOf(this.db.prepare('SELECT prints FROM attribution_outcome_chunks WHERE id = ?').pluck().get(chunk.id) as Buffer);
      for (let k = 0; k < pairs.length; k += 2) prints.set(pairs[k]!, pairs[k + 1]!);
      // Kept outcomes as their JSON; the run's as their index in `writes`.
      const merged = new Map<number, { id: number; item: string | number; fp: number }>();
      for (const o of this.#items(chunk.id)) if (!p.removes.has(o[0])) merged.set(o[0], { id: o[0], item: JSON.stringify(o), fp: prints.get(o[0]) ?? 0 });
      for (const w of p.puts) merged.set(writes.eventId(w), { id: writes.eventId(w), item: w, fp: writes.fingerprint(w) });
      remove.run(chunk.id);
      const items = [...merged.values()].sort((a, b) => a.id - b.id);
      this.#insertRows(workspaceId, items.length, (k) => items[k]!.id, (out, k) => {
        const item = items[k]!.item;
        if (typeof item === 'number') writes.writeItem(out, item, runId);
        else out.raw(Buffer.from(item, 'utf8'));
      }, (k) => items[k]!.fp);
    }
  }

  /**
   * Inserts n outcomes, in event id order and read through accessors, as chunk rows of
   * OUTCOME_CHUNK (one row when up to twice that). Each row's outcomes are written as bytes and
   * stored as text (CAST): the JSON never becomes a JS string on its way in; its fingerprints as
   * printsOf reads them.
   */
  #insertRows(workspaceId: string, n: number, idAt: (i: number) => number, writeAt: (out: JsonBytes, i: number) => void, fpAt: (i: number) => number): void {
    const insert = this.db.prepare(`INSERT INTO attribution_outcome_chunks (workspace_id, first_event, last_event, n, data, prints)
      VALUES (?, ?, ?, ?, CAST(? AS TEXT), ?)`);
    const data = this.#data;
    const size = n <= 2 * OUTCOME_CHUNK ? n : OUTCOME_CHUNK;
    if (this.#prints.length < 2 * size) this.#prints = new Float64Array(2 * size);
    const prints = this.#prints;
    for (let at = 0; at < n; at += size) {
      const end = Math.min(n, at + size);
      data.reset().char('[');
      for (let i = at; i < end; i++) {
        if (i > at) data.char(',');
        writeAt(data, i);
        prints[2 * (i - at)] = idAt(i);
        prints[2 * (i - at) + 1] = fpAt(i);
      }
      insert.run(workspaceId, idAt(at), idAt(end - 1), end - at, data.char(']').bytes(), Buffer.from(prints.buffer, 0, 16 * (end - at)));
    }
  }
}
