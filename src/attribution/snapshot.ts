import type { SnapshotFile, Store } from '../store/index.js';
import { ActivityIndex } from './activity.js';
import { sharedF64Array, sharedI32Array } from './columns.js';
import { Conversions } from './conversions.js';
import { readEvents, workspaceRules, type Loaded } from './load.js';

type Section = Float64Array | Int32Array | Uint8Array;

const FORMAT = 1;
/** A run that resumed from a snapshot writes a new one once the events it read since are this share of those the snapshot holds. */
const REWRITE_SHARE = 0.02;

/** What a snapshot says of itself, before its arrays. */
interface Header {
  format: number;
  workspaceId: string;
  /** Every event of the workspace with an id up to this one is in the snapshot, and none above it. */
  through: number;
  /** The run's `until` (indexing's: the latest instant an event it holds was received): a run with an earlier one cannot start from this snapshot. */
  until: number;
  /** The goals' names over time when it was taken: which custom events are conversions depends on them. */
  goals: string;
  /** How many events it holds. */
  events: number;
  /** How many of the arrays are the activity index's (the rest are the conversions'). */
  activityParts: number;
  /** The conversions' distinct names. */
  names: string[];
  sections: { kind: 'f64' | 'i32' | 'u8'; length: number }[];
}

const KINDS = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;
const kindOf = (a: Section): Header['sections'][number]['kind'] => (a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'u8');
const pad8 = (n: number) => (n + 7) & ~7;

/** A snapshot's bytes as parts to write one after the other: the header's length and JSON, then every array, each 8-byte aligned. */
function encode(header: Omit<Header, 'sections'>, arrays: readonly Section[]): Uint8Array[] {
  const json = Buffer.from(JSON.stringify({ ...header, sections: arrays.map((a) => ({ kind: kindOf(a), length: a.length })) }), 'utf8');
  const head = Buffer.alloc(pad8(4 + json.length));
  head.writeUInt32LE(json.length, 0);
  json.copy(head, 4);
  const parts: Uint8Array[] = [head];
  for (const a of arrays) {
    parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    if (pad8(a.byteLength) > a.byteLength) parts.push(new Uint8Array(pad8(a.byteLength) - a.byteLength));
  }
  return parts;
}

/** A snapshot's header, and where its arrays start. Throws on one this build cannot read. */
async function readHeader(file: SnapshotFile): Promise<{ header: Header; end: number }> {
  const head = new Uint8Array(4);
  await file.read(head, 0);
  const length = new DataView(head.buffer).getUint32(0, true);
  if (4 + length > file.size) throw new Error('Snapshot: the header runs past the end.');
  const json = new Uint8Array(length);
  await file.read(json, 4);
  const header = JSON.parse(Buffer.from(json.buffer, 0, length).toString('utf8')) as Header;
  if (header.format !== FORMAT) throw new Error(`Snapshot: format ${header.format} is not known to this build.`);
  return { header, end: pad8(4 + length) };
}

/** What a workspace's snapshot covers, from its header alone: null when it has none that this build can read. */
export async function snapshotCoverage(store: Store, workspaceId: string): Promise<{ through: number; events: number; until: number; goals: string } | null> {
  const file = store.attribution.snapshots === null ? null : await store.attribution.snapshots.get(workspaceId);
  if (file === null) return null;
  try {
    const { header } = await readHeader(file);
    return header.workspaceId === workspaceId ? { through: header.through, events: header.events, until: header.until, goals: header.goals } : null;
  } catch {
    return null;
  } finally {
    await file.close();
  }
}

/**
 * Reads a snapshot's header, then asks for all its arrays at once (read off this thread; `read`
 * resolves when they are in), each into shared memory of its own with room to grow by a sixteenth
 * (at least 64 values): the events a run adds to them are merged in place (ActivityIndex.build),
 * and room a run does not use is never touched. Throws on any inconsistency.
 */
async function readSnapshot(file: SnapshotFile): Promise<{ header: Header; arrays: Section[]; read: Promise<unknown> }> {
  const { header, end } = await readHeader(file);
  let at = end;
  const arrays: Section[] = [];
  const reads: Promise<void>[] = [];
  for (const { kind, length: n } of header.sections) {
    const Kind = KINDS[kind];
    if (Kind === undefined || !Number.isSafeInteger(n) || n < 0 || at + n * Kind.BYTES_PER_ELEMENT > file.size) throw new Error('Snapshot: a section runs past the end.');
    // In shared memory: a second thread judges part of a large run's conversions over it (judge-thread.ts).
    const room = n + Math.max(n >>> 4, 64);
    const a = kind === 'f64' ? sharedF64Array(room) : kind === 'i32' ? sharedI32Array(room) : new Uint8Array(new SharedArrayBuffer(room));
    reads.push(file.read(new Uint8Array(a.buffer, 0, n * Kind.BYTES_PER_ELEMENT), at));
    arrays.push(a.subarray(0, n));
    at += pad8(n * Kind.BYTES_PER_ELEMENT);
  }
  const read = Promise.all(reads);
  read.catch(() => {}); // awaited by the caller, possibly after other work
  if (at !== file.size) throw new Error('Snapshot: bytes left over after the last section.');
  return { header, arrays, read };
}

/** What a run loaded, and how to keep it. */
export interface RunLoad<T> extends Loaded {
  /** Writes the snapshot the next run starts from, when this run should (null: it should not). */
  save: (() => Promise<void>) | null;
  /** What `alongside` gave. */
  alongside: T;
  /** How many events it loaded, from the snapshot and since. */
  events: number;
}

/**
 * Loads a workspace's events up to `until` for a run: from its snapshot when there is one that
 * still holds (taken by an earlier run with no later `until`, under the same goal names), then
 * the events stored since. What it builds is what loading every event builds (the property test
 * compares them); a snapshot that cannot be read only makes the run read everything. Ten million
 * events cost seconds to read and number; their snapshot, a read of one file, during which
 * `alongside` (the run's other reading) is done, its answer handed back.
 */
export async function loadForRun<T>(store: Store, workspaceId: string, until: number, alongside: () => Promise<T>, options: { everything?: boolean } = {}): Promise<RunLoad<T>> {
  // Indexing (indexer.ts) reads every event stored, whenever received: a snapshot must hold every
  // event up to its `through`, and under steady ingestion some event is always received after any
  // instant chosen first. Its snapshot's `until` is then the latest instant it holds an event of.
  const everything = options.everything === true;
  const { rules, goalsByName, optimizations, isConversion, goalsKey } = await workspaceRules(store, workspaceId);
  const shelf = store.attribution.snapshots;
  let resumed: { activity: ActivityIndex; conversions: Conversions; header: Header } | null = null;
  let extra: { value: T } | null = null;
  const file = shelf === null ? null : await shelf.get(workspaceId);
  if (file !== null) {
    try {
      const { header, arrays, read } = await readSnapshot(file);
      // This thread's share of the run's reading, done while the snapshot's bytes come in.
      extra = { value: await alongside() };
      await read;
      if (header.workspaceId === workspaceId && header.goals === goalsKey && (everything || header.until <= until)) {
        const activity = ActivityIndex.fromParts(rules, arrays.slice(0, header.activityParts));
        resumed = { activity, conversions: Conversions.fromParts(activity, arrays.slice(header.activityParts), header.names), header };
      }
    } catch {
      resumed = null; // Unreadable (a build with another layout, a damaged file): read every event instead.
    } finally {
      await file.close();
    }
  }
  const activity = resumed?.activity ?? new ActivityIndex(rules);
  const conversions = resumed?.conversions ?? new Conversions(activity);
  const { last, skipped, events: read, maxReceived } = await readEvents(store, workspaceId, everything ? Number.POSITIVE_INFINITY : until,
    { activity, conversions, isConversion }, resumed?.header.through ?? 0);
  const held = everything ? Math.max(resumed?.header.until ?? Number.NEGATIVE_INFINITY, maxReceived) : until;
  const fromSnapshot = resumed?.header.events ?? 0;
  // Events received after `until` were left out: a snapshot must hold every event up to its `through`.
  const due = shelf !== null && skipped === 0 && (resumed === null ? read > 0 : read > fromSnapshot * REWRITE_SHARE);
  const save = due ? async () => {
    const { arrays, names } = conversions.parts();
    const parts = activity.parts();
    await shelf.put(workspaceId, encode({
      format: FORMAT, workspaceId, through: last, until: held, goals: goalsKey, events: fromSnapshot + read, activityParts: parts.length, names,
    }, [...parts, ...arrays]));
  } : null;
  return {
    ctx: { goalsByName, optimizations, activity }, rules, conversions, save, alongside: extra === null ? await alongside() : extra.value, events: fromSnapshot + read,
  };
}
