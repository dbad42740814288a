import { DIALECTS, EVENT_TYPES, type DialectName, type EventType } from '../core/index.js';
import { Interner } from '../core/interner.js';
import type { ScannedEvent } from './types.js';

/** The string fields of a scanned event, in the order their references are laid out. */
export const STRING_FIELDS = ['name', 'idempotencyKey', 'visitorId', 'sessionId', 'userDomain', 'userId', 'optimization', 'variation'] as const;
export type StringField = (typeof STRING_FIELDS)[number];
/** Where each string field's references sit in EventColumns.refs: field f of event i is refs[REF[f] * n + i]. */
export const REF = Object.freeze(Object.fromEntries(STRING_FIELDS.map((f, i) => [f, i])) as Record<StringField, number>);
const F = STRING_FIELDS.length;

/**
 * A chunk of a workspace's events in columns, in id order: what attribution reads. Numbers sit in
 * typed arrays and every string field is a reference into the chunk's own list of distinct
 * strings, so reading millions of events costs a few array copies and one JSON.parse per chunk
 * instead of an object (and a dozen strings) per event.
 */
export interface EventColumns {
  n: number;
  id: Float64Array;
  occurredAt: Float64Array;
  receivedAt: Float64Array;
  /** NaN when the event has no value. */
  value: Float64Array;
  /** Index into EVENT_TYPES. */
  type: Uint8Array;
  /** Index into DIALECTS. */
  source: Uint8Array;
  /** Field f of event i is string refs[f * n + i] of the chunk; 0 is null (string 0 is unused). */
  refs: Uint32Array;
  /**
   * The chunk's distinct strings as UTF-8: string r is bytes[offsets[r] .. offsets[r + 1]).
   * Kept as bytes so that a reader can number millions of them without making a JS string each.
   */
  offsets: Uint32Array;
  bytes: Uint8Array;
}

/** String r of a chunk (r > 0). */
export function stringAt(c: EventColumns, r: number): string {
  return Buffer.from(c.bytes.buffer, c.bytes.byteOffset + c.offsets[r]!, c.offsets[r + 1]! - c.offsets[r]!).toString('utf8');
}

/** Collects a chunk's distinct strings, then lays them out as offsets and bytes. */
class StringTable {
  readonly #refs = new Map<string, number>();
  readonly #parts: Buffer[] = [Buffer.alloc(0)];

  ref(s: string): number {
    let r = this.#refs.get(s);
    if (r === undefined) {
      r = this.#parts.length;
      this.#parts.push(Buffer.from(s, 'utf8'));
      this.#refs.set(s, r);
    }
    return r;
  }

  layout(): { offsets: Uint32Array; bytes: Uint8Array } {
    const offsets = new Uint32Array(this.#parts.length + 1);
    for (let r = 0; r < this.#parts.length; r++) offsets[r + 1] = offsets[r]! + this.#parts[r]!.length;
    return { offsets, bytes: Buffer.concat(this.#parts) };
  }
}

const TYPE_CODE = new Map<string, number>(EVENT_TYPES.map((t, i) => [t, i]));
const SOURCE_CODE = new Map<string, number>(DIALECTS.map((d, i) => [d, i]));
export const typeCode = (t: EventType): number => TYPE_CODE.get(t)!;

/** Lays out events (in id order) as columns. */
export function toColumns(events: readonly ScannedEvent[]): EventColumns {
  const n = events.length;
  const c = emptyColumns(n);
  const table = new StringTable();
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    c.id[i] = e.id;
    c.occurredAt[i] = e.occurredAt;
    c.receivedAt[i] = e.receivedAt;
    c.value[i] = e.value ?? Number.NaN;
    c.type[i] = TYPE_CODE.get(e.type)!;
    c.source[i] = SOURCE_CODE.get(e.source)!;
    for (let f = 0; f < F; f++) {
      const s = e[STRING_FIELDS[f]!];
      if (s !== null) c.refs[f * n + i] = table.ref(s);
    }
  }
  return { ...c, ...table.layout() };
}

function emptyColumns(n: number): EventColumns {
  return {
    n, id: new Float64Array(n), occurredAt: new Float64Array(n), receivedAt: new Float64Array(n), value: new Float64Array(n),
    type: new Uint8Array(n), source: new Uint8Array(n), refs: new Uint32Array(n * F), offsets: new Uint32Array(2), bytes: new Uint8Array(0),
  };
}

/** Event i of a chunk as an object (journeys, explanations: a few events, not millions). */
export function eventAt(c: EventColumns, i: number): ScannedEvent {
  const s = (f: number): string | null => {
    const ref = c.refs[f * c.n + i]!;
    return ref === 0 ? null : stringAt(c, ref);
  };
  const value = c.value[i]!;
  return {
    id: c.id[i]!, type: EVENT_TYPES[c.type[i]!]!, name: s(REF.name), occurredAt: c.occurredAt[i]!, receivedAt: c.receivedAt[i]!,
    idempotencyKey: s(REF.idempotencyKey), visitorId: s(REF.visitorId), sessionId: s(REF.sessionId), userDomain: s(REF.userDomain),
    userId: s(REF.userId), optimization: s(REF.optimization), variation: s(REF.variation),
    value: Number.isNaN(value) ? null : value, source: DIALECTS[c.source[i]!]! as DialectName,
  };
}

/**
 * The events of several chunks, in order, as one chunk (compaction): columns copied, strings
 * renumbered once per chunk by their bytes (no JS string is made for them).
 */
export function concatColumns(chunks: readonly EventColumns[]): EventColumns {
  const n = chunks.reduce((sum, c) => sum + c.n, 0);
  const out = emptyColumns(n);
  const strings = new Interner();
  strings.reserve(chunks.reduce((sum, c) => sum + c.offsets.length - 1, 0));
  let at = 0;
  for (const c of chunks) {
    for (const k of ['id', 'occurredAt', 'receivedAt', 'value', 'type', 'source'] as const) out[k].set(c[k], at);
    const count = c.offsets.length - 1;
    const renumber = new Uint32Array(count);
    for (let r = 1; r < count; r++) renumber[r] = strings.internBytes(c.bytes, c.offsets[r]!, c.offsets[r + 1]!) + 1;
    for (let f = 0; f < F; f++) {
      for (let i = 0; i < c.n; i++) out.refs[f * n + at + i] = renumber[c.refs[f * c.n + i]!]!;
    }
    at += c.n;
  }
  return { ...out, ...strings.layout() };
}

/** The reference of a chunk's string equal to `s` (its UTF-8 bytes), or 0 when the chunk has none. */
export function refOf(c: EventColumns, s: Uint8Array): number {
  const { offsets, bytes } = c;
  for (let r = 1; r < offsets.length - 1; r++) {
    const from = offsets[r]!;
    if (offsets[r + 1]! - from !== s.length) continue;
    let i = 0;
    while (i < s.length && bytes[from + i] === s[i]) i++;
    if (i === s.length) return r;
  }
  return 0;
}

/** The fields numberIds numbers, in the order it numbers them within an event. */
const ID_FIELDS = [REF.visitorId, REF.sessionId, REF.optimization, REF.variation, REF.userId, REF.userDomain];

/**
 * Numbers a chunk's ids — the visitor, session, optimization, variation, user id and domain
 * strings its events refer to, event by event — with a reader-wide Interner, so a reader gets the
 * same number for the same id in every chunk: numbers[r] is the number of string r (-1 for a
 * string only other fields refer to, such as names and idempotency keys).
 */
export function numberIds(c: EventColumns, strings: Interner): Int32Array {
  const { n, refs, offsets, bytes } = c;
  const numbers = new Int32Array(offsets.length - 1).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < ID_FIELDS.length; f++) {
      const r = refs[ID_FIELDS[f]! * n + i]!;
      if (r !== 0 && numbers[r]! < 0) numbers[r] = strings.internBytes(bytes, offsets[r]!, offsets[r + 1]!);
    }
  }
  return numbers;
}

/** The events of a chunk for which keep(i) holds. */
export function filterColumns(c: EventColumns, keep: (i: number) => boolean): EventColumns {
  const events: ScannedEvent[] = [];
  for (let i = 0; i < c.n; i++) if (keep(i)) events.push(eventAt(c, i));
  return toColumns(events);
}

const VERSION = 1;
const HEADER = 16;

/**
 * Binary layout: a header of four uint32 (version, n, string fields, distinct strings + 1), then
 * the four float64 columns, the references, the string offsets, the two byte columns and the
 * strings' UTF-8 bytes. Float columns come first so they stay 8-byte aligned.
 */
export function encodeColumns(c: EventColumns): Buffer {
  const n = c.n;
  const out = Buffer.allocUnsafe(HEADER + 32 * n + 4 * F * n + c.offsets.byteLength + 2 * n + c.bytes.length);
  out.writeUInt32LE(VERSION, 0);
  out.writeUInt32LE(n, 4);
  out.writeUInt32LE(F, 8);
  out.writeUInt32LE(c.offsets.length, 12);
  let at = HEADER;
  for (const col of [c.id, c.occurredAt, c.receivedAt, c.value, c.refs, c.offsets, c.type, c.source, c.bytes]) {
    out.set(new Uint8Array(col.buffer, col.byteOffset, col.byteLength), at);
    at += col.byteLength;
  }
  return out;
}

export function decodeColumns(blob: Uint8Array): EventColumns {
  // Typed-array views need aligned offsets; a blob handed over by a driver may sit anywhere.
  const bytes = blob.byteOffset % 8 === 0 ? blob : new Uint8Array(blob);
  const head = new DataView(bytes.buffer, bytes.byteOffset, HEADER);
  const version = head.getUint32(0, true);
  if (version !== VERSION) throw new Error(`Event segment version ${version} is not known to this build.`);
  const n = head.getUint32(4, true);
  const fields = head.getUint32(8, true);
  if (fields !== F) throw new Error(`Event segment has ${fields} string fields, this build expects ${F}.`);
  const strings = head.getUint32(12, true);
  let at = bytes.byteOffset + HEADER;
  const f64 = () => { const a = new Float64Array(bytes.buffer, at, n); at += 8 * n; return a; };
  const id = f64();
  const occurredAt = f64();
  const receivedAt = f64();
  const value = f64();
  const refs = new Uint32Array(bytes.buffer, at, F * n);
  at += 4 * F * n;
  const offsets = new Uint32Array(bytes.buffer, at, strings);
  at += 4 * strings;
  const type = new Uint8Array(bytes.buffer, at, n);
  const source = new Uint8Array(bytes.buffer, at + n, n);
  at += 2 * n;
  return { n, id, occurredAt, receivedAt, value, type, source, refs, offsets, bytes: new Uint8Array(bytes.buffer, at, offsets[strings - 1]!) };
}
