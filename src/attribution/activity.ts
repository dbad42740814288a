import { REF, typeCode, type EventColumns, type ScannedEvent } from '../store/index.js';
import { alike, f64, i32, isShared, sharedF64Array, sharedI32, sharedI32Array, type Column } from './columns.js';
import type { Fingerprint } from './fingerprint.js';
import { Interner } from '../core/interner.js';
import type { ByteWriter } from '../core/bytes.js';
import { lastAtOrBefore, sessionize, type SessionRules, type Sessions } from './sessions.js';

/** The fields of a stored event that the activity index reads. */
export type ActivityEvent = Pick<ScannedEvent, 'id' | 'type' | 'visitorId' | 'sessionId' | 'userDomain' | 'userId' | 'optimization' | 'variation' | 'occurredAt' | 'receivedAt'>;

export interface View {
  t: number;
  id: number;
  variation: string;
}

/** The session that holds an activity time. */
export interface SessionSpan {
  start: number;
  end: number;
  /** True when the session ended at its maximum duration, not after inactivity. */
  capped: boolean;
}

/** Browser activity is what the snippet and the native API send about a visitor; server-side conversions are not activity. */
export const ACTIVITY_TYPES: ReadonlySet<string> = new Set(['pageview', 'view', 'identify', 'custom']);
/** Per type code: 1 for browser activity. */
const IS_ACTIVITY = new Uint8Array(256);
for (const t of ACTIVITY_TYPES) IS_ACTIVITY[typeCode(t as ScannedEvent['type'])] = 1;
const VIEW = typeCode('view');
const IDENTIFY = typeCode('identify');
const { visitorId: VISITOR, sessionId: SESSION, userDomain: DOMAIN, userId: USER, optimization: OPTIMIZATION, variation: VARIATION } = REF;

/** The frozen, queryable form: per visitor (and per user id) a contiguous range of each column, indexed by string number. */
interface Built {
  actStart: Int32Array;
  actT: Float64Array;
  viewStart: Int32Array;
  viewT: Float64Array;
  viewId: Float64Array;
  viewOpt: Int32Array;
  viewVar: Int32Array;
  identStart: Int32Array;
  identDomain: Int32Array;
  identVisitor: Int32Array;
  identReceived: Float64Array;
}

/** Sorts a visitor's views [a, b) by time, then event id, keeping the columns aligned (a few views: insertion sort). */
function sortViews(b: Pick<Built, 'viewT' | 'viewId' | 'viewOpt' | 'viewVar'>, a: number, end: number): void {
  const { viewT: t, viewId: id, viewOpt: o, viewVar: v } = b;
  for (let i = a + 1; i < end; i++) {
    const ti = t[i]!, idi = id[i]!, oi = o[i]!, vi = v[i]!;
    let j = i - 1;
    while (j >= a && (t[j]! > ti || (t[j] === ti && id[j]! > idi))) {
      t[j + 1] = t[j]!; id[j + 1] = id[j]!; o[j + 1] = o[j]!; v[j + 1] = v[j]!;
      j--;
    }
    t[j + 1] = ti; id[j + 1] = idi; o[j + 1] = oi; v[j + 1] = vi;
  }
}

/** Sorts times [a, end) (a few per visitor, mostly in order already: insertion sort, no view object per visitor). */
function sortTimes(t: Float64Array, a: number, end: number): void {
  for (let i = a + 1; i < end; i++) {
    const ti = t[i]!;
    let j = i - 1;
    while (j >= a && t[j]! > ti) {
      t[j + 1] = t[j]!;
      j--;
    }
    t[j + 1] = ti;
  }
}

type Col = Float64Array | Int32Array;

/** What group() gives: the starts, the columns, and where each key's next added row goes; `scratch.touched` says which keys received rows. */
interface Grouped { start: Int32Array; cols: Col[]; next: Int32Array }

/**
 * Memory group() works in, made once per build() for its three calls: a nightly run merges a day's
 * events into ten million rows of three million keys, and fresh arrays of that many keys (12 MB
 * each) cost more in first touches of their pages than the loops that fill them (3-7 us a page
 * on this VM).
 */
interface GroupScratch { next: Int32Array; touched: Uint8Array }

/** The built columns, in the order a snapshot lays them out. */
const BUILT = ['actStart', 'actT', 'viewStart', 'viewT', 'viewId', 'viewOpt', 'viewVar', 'identStart', 'identDomain', 'identVisitor', 'identReceived'] as const satisfies readonly (keyof Built)[];

/** What an index built from nothing grows from (group() allocates alike: in shared memory from the shared one). */
const empty = (f64s: (n: number) => Float64Array, i32s: (n: number) => Int32Array): Built => ({
  actStart: i32s(1), actT: f64s(0), viewStart: i32s(1), viewT: f64s(0), viewId: f64s(0), viewOpt: i32s(0), viewVar: i32s(0),
  identStart: i32s(1), identDomain: i32s(0), identVisitor: i32s(0), identReceived: f64s(0),
});
const EMPTY = empty((n) => new Float64Array(n), (n) => new Int32Array(n));
const EMPTY_SHARED = empty(sharedF64Array, sharedI32Array);

/** `c` lengthened to `n` values over the same memory, when there is room for them after it (a snapshot's arrays have some); else null. */
function lengthened<C extends Col>(c: C, n: number): C | null {
  if ((c.buffer.byteLength - c.byteOffset) / c.BYTES_PER_ELEMENT < n) return null;
  return (c instanceof Float64Array ? new Float64Array(c.buffer, c.byteOffset, n) : new Int32Array(c.buffer, c.byteOffset, n)) as C;
}

/**
 * Groups rows by key in [0, keys): key k's rows end up at start[k] .. start[k + 1] of every
 * column, the rows already grouped (`old`, by `oldStart`) first, then the added ones in the
 * order added. Answers the starts, the columns and where each key's next added row goes; marks
 * in `scratch.touched` the keys that received rows (their ranges may need sorting again). Old rows
 * move in runs of keys that shift by the same amount, one copy per run: in place, last run first,
 * when the old columns have room for the added rows (resuming from a snapshot: no copy of ten
 * million rows for a day's new events); else into new columns (in shared memory when the old ones
 * were: judge-thread.ts). The starts are rewritten in place too when `oldStart` has room. The
 * caller then scatters the added rows into place in one pass (a counting sort): row i goes to
 * next[key[i]]++, written by a loop of its own so that each column's stores stay of one array type
 * (a loop over mixed columns ran four times slower on ten million rows).
 */
function group(keys: number, oldStart: Int32Array, old: readonly Col[], key: Int32Array, scratch: GroupScratch): Grouped {
  const oldKeys = oldStart.length - 1;
  const oldTotal = oldStart[oldKeys]!;
  // cum[k]: how many added rows go before key k's (their counts first, then summed).
  const cum = scratch.next;
  const touched = scratch.touched;
  cum.fill(0, 0, keys + 1);
  touched.fill(0, 0, keys);
  for (let i = 0; i < key.length; i++) {
    cum[key[i]! + 1]!++;
    touched[key[i]!] = 1;
  }
  for (let k = 0; k < keys; k++) cum[k + 1]! += cum[k]!;
  const total = oldTotal + cum[keys]!;
  // Key k (its old rows at oldStart[k], or at the old end for a new key) moves by cum[k].
  const room = old.map((c) => lengthened(c, total));
  let cols: Col[];
  if (room.every((c) => c !== null)) {
    cols = room as Col[];
    // Shifts only grow with the key: moving the last run first never overwrites rows not moved yet.
    for (let end = oldKeys; end > 0;) {
      const shift = cum[end - 1]!;
      let k = end - 1;
      while (k > 0 && cum[k - 1] === shift) k--;
      if (shift !== 0) for (const c of cols) c.copyWithin(oldStart[k]! + shift, oldStart[k]!, oldStart[end]!);
      end = k;
    }
  } else {
    cols = old.map((c) => alike(c, total));
    for (let k = 0; k < oldKeys;) {
      const shift = cum[k]!;
      let end = k + 1;
      while (end < oldKeys && cum[end] === shift) end++;
      for (let c = 0; c < cols.length; c++) cols[c]!.set(old[c]!.subarray(oldStart[k]!, oldStart[end]!), oldStart[k]! + shift);
      k = end;
    }
  }
  // One pass, ascending: start[k] = old start + cum[k]; next[k] = old end + cum[k], over cum[k]
  // (and over oldStart[k] when it has room: read before, as oldStart[k + 1] is read before it is written).
  const start = lengthened(oldStart, keys + 1) ?? alike(oldStart, keys + 1);
  const next = cum;
  let from = oldStart[0]!;
  for (let k = 0; k < keys; k++) {
    const to = k < oldKeys ? oldStart[k + 1]! : oldTotal;
    const c = cum[k]!;
    start[k] = from + c;
    next[k] = to + c;
    from = to;
  }
  start[keys] = total;
  return { start, cols, next };
}

/**
 * Per-visitor activity, views, session ids and identities, built from events in any order and
 * then frozen for queries: everything attribution needs to know about visitors. Every id (visitor,
 * session, user, domain, optimization and variation key) is numbered once by an Interner; the
 * events live in typed-array columns grouped by visitor, so ten million views cost a few hundred
 * megabytes and next to no garbage. Queries come in two forms: by string (explanations,
 * journeys) and by number (a run's hot loop, see engine.ts).
 */
export class ActivityIndex {
  #strings: Interner;
  /** Per string number: the first visitor seen with it as a session id, + 1 (0: not a session). */
  readonly #sessionVisitor: Column<Int32Array>;
  readonly #sessionOthers = new Map<number, number[]>();
  // Events as added, before build().
  readonly #act = { v: i32(), t: f64() };
  readonly #view = { v: i32(), t: f64(), id: f64(), opt: i32(), var: i32() };
  readonly #ident = { u: i32(), d: i32(), v: i32(), r: f64() };
  #built: Built | null = null;
  /** Rows were added since the last build(). */
  #pending = false;

  /**
   * `shared`: what it builds is in shared memory (its strings, session ids and built columns; not
   * the events as added, which build() drops), so that another thread can judge over it as it is
   * (judge-thread.ts). An index read from a snapshot is (snapshot.ts). A fresh index that a run
   * reads every event into is not: the collector is not told of shared memory, and the events'
   * columns, dropped by build(), then lingered as garbage while it allocated the built ones (+130
   * MB of peak RSS at ten million events, measured).
   */
  constructor(private readonly rules: SessionRules, readonly shared = false) {
    this.#strings = new Interner(shared);
    this.#sessionVisitor = shared ? sharedI32() : i32();
  }

  #session(s: number, visitor: number): void {
    const known = this.#sessionVisitor;
    if (s >= known.length) {
      // Zero-filled: string numbers up to s not (yet) seen as sessions.
      known.reserve(s + 1 - known.length);
      known.length = s + 1;
    }
    const first = this.#sessionVisitor.get(s) - 1;
    if (first < 0) this.#sessionVisitor.set(s, visitor + 1);
    else if (first !== visitor) {
      const others = this.#sessionOthers.get(s);
      if (others === undefined) this.#sessionOthers.set(s, [visitor]);
      else if (!others.includes(visitor)) others.push(visitor);
    }
  }

  add(e: ActivityEvent): void {
    if (e.visitorId === null || !ACTIVITY_TYPES.has(e.type)) return;
    this.#pending = true;
    const strings = this.#strings;
    const v = strings.intern(e.visitorId);
    this.#act.v.push(v);
    this.#act.t.push(e.occurredAt);
    if (e.sessionId !== null) this.#session(strings.intern(e.sessionId), v);
    if (e.type === 'view' && e.optimization !== null && e.variation !== null) this.#addView(v, e.occurredAt, e.id, strings.intern(e.optimization), strings.intern(e.variation));
    if (e.type === 'identify' && e.userDomain !== null && e.userId !== null) this.#addIdentity(strings.intern(e.userId), strings.intern(e.userDomain), v, e.receivedAt);
  }

  /**
   * Makes room for about `events` more events at once (a run knows how many it will read), and
   * for their ids unless another interner numbers them (`numbered`: see adoptStrings).
   */
  reserve(events: number, numbered = false): void {
    // Every column sized for all of them at once: growing by doubling copied gigabytes. Pages a
    // column never reaches are never touched (zero-filled lazily), so this costs no memory.
    for (const col of [...Object.values(this.#act), ...Object.values(this.#view), ...Object.values(this.#ident)]) col.reserve(events);
    // Ids repeat: a visitor, session or user per few events is the common case.
    if (!numbered) this.#strings.reserve(this.#strings.size + Math.ceil(events / 4));
    // By string number (growing would copy it).
    this.#sessionVisitor.reserve(this.#strings.size + Math.ceil(events / 4) - this.#sessionVisitor.length);
  }

  /**
   * Adds the activity events of a chunk of columns (the fast path of a run: no object and no
   * string per event). Returns the chunk's string references resolved to this index's numbers,
   * for the conversions of the same chunk. With `numbered` (numberIds of the chunk, by the
   * interner this index adopts once every chunk is in: adoptStrings), ids are not numbered here.
   */
  addColumns(c: EventColumns, numbered?: Int32Array): (ref: number) => number {
    this.#pending = true;
    const { n, refs, offsets, bytes } = c;
    const numbers = numbered ?? new Int32Array(offsets.length - 1).fill(-1);
    const strings = this.#strings;
    const resolve = (r: number): number => {
      let k = numbers[r]!;
      if (k < 0) {
        if (numbered !== undefined) throw new Error(`String ${r} of a numbered chunk has no number.`);
        k = numbers[r] = strings.internBytes(bytes, offsets[r]!, offsets[r + 1]!);
      }
      return k;
    };
    this.#act.v.reserve(n);
    this.#act.t.reserve(n);
    for (let i = 0; i < n; i++) {
      const type = c.type[i]!;
      const vr = refs[VISITOR * n + i]!;
      if (vr === 0 || IS_ACTIVITY[type] === 0) continue;
      const v = resolve(vr);
      const t = c.occurredAt[i]!;
      this.#act.v.push(v);
      this.#act.t.push(t);
      const sr = refs[SESSION * n + i]!;
      if (sr !== 0) this.#session(resolve(sr), v);
      if (type === VIEW) {
        const or = refs[OPTIMIZATION * n + i]!;
        const wr = refs[VARIATION * n + i]!;
        if (or !== 0 && wr !== 0) this.#addView(v, t, c.id[i]!, resolve(or), resolve(wr));
      } else if (type === IDENTIFY) {
        const dr = refs[DOMAIN * n + i]!;
        const ur = refs[USER * n + i]!;
        if (dr !== 0 && ur !== 0) this.#addIdentity(resolve(ur), resolve(dr), v, c.receivedAt[i]!);
      }
    }
    return (r) => (r === 0 ? -1 : resolve(r));
  }

  /** Nothing was added to it yet. */
  isEmpty(): boolean {
    return this.#strings.size === 0 && this.#built === null && !this.#pending;
  }

  /**
   * Takes the interner that numbered the ids of every chunk added so far (addColumns with
   * `numbered`): an index numbers its ids with one interner, so this comes before anything is
   * numbered here.
   */
  adoptStrings(strings: Interner): void {
    if (this.#strings.size > 0 || this.#built !== null) throw new Error('An activity index adopts an interner only before it numbers anything itself.');
    this.#strings = strings;
  }

  #addView(v: number, t: number, id: number, opt: number, variation: number): void {
    const w = this.#view;
    w.v.push(v); w.t.push(t); w.id.push(id); w.opt.push(opt); w.var.push(variation);
  }

  #addIdentity(u: number, d: number, v: number, receivedAt: number): void {
    const x = this.#ident;
    x.u.push(u); x.d.push(d); x.v.push(v); x.r.push(receivedAt);
  }

  /**
   * Groups what was added by visitor (and identities by user id) and sorts it by time; queries
   * need it. Rows added after an earlier build() are merged into what it built: the built rows
   * are moved in long runs (a day's new events shift few of them) and only the ranges that
   * received rows are sorted again.
   */
  build(): this {
    if (this.#built !== null && !this.#pending) return this;
    const keys = this.#strings.size;
    const b = this.#built ?? (this.shared ? EMPTY_SHARED : EMPTY);
    const scratch: GroupScratch = { next: new Int32Array(keys + 1), touched: new Uint8Array(keys) };
    const a = this.#act;
    const act = group(keys, b.actStart, [b.actT], a.v.view(), scratch);
    const actT = act.cols[0] as Float64Array;
    {
      const { next } = act;
      const [v, t] = [a.v.view(), a.t.view()];
      for (let r = 0; r < v.length; r++) actT[next[v[r]!]!++] = t[r]!;
    }
    for (const col of Object.values(a)) col.clear();
    for (let v = 0; v < keys; v++) if (scratch.touched[v] === 1) sortTimes(actT, act.start[v]!, act.start[v + 1]!);

    const w = this.#view;
    const view = group(keys, b.viewStart, [b.viewT, b.viewId, b.viewOpt, b.viewVar], w.v.view(), scratch);
    const [viewT, viewId, viewOpt, viewVar] = view.cols as [Float64Array, Float64Array, Int32Array, Int32Array];
    {
      const { next } = view;
      const [v, t, id, opt, variation] = [w.v.view(), w.t.view(), w.id.view(), w.opt.view(), w.var.view()];
      for (let r = 0; r < v.length; r++) {
        const p = next[v[r]!]!++;
        viewT[p] = t[r]!; viewId[p] = id[r]!; viewOpt[p] = opt[r]!; viewVar[p] = variation[r]!;
      }
    }
    for (const col of Object.values(w)) col.clear();
    const viewStart = view.start;
    const views = { viewT, viewId, viewOpt, viewVar };
    for (let v = 0; v < keys; v++) if (scratch.touched[v] === 1) sortViews(views, viewStart[v]!, viewStart[v + 1]!);

    const x = this.#ident;
    const ident = group(keys, b.identStart, [b.identDomain, b.identVisitor, b.identReceived], x.u.view(), scratch);
    const [identDomain, identVisitor, identReceived] = ident.cols as [Int32Array, Int32Array, Float64Array];
    {
      const { next } = ident;
      const [u, d, v, received] = [x.u.view(), x.d.view(), x.v.view(), x.r.view()];
      for (let r = 0; r < u.length; r++) {
        const p = next[u[r]!]!++;
        identDomain[p] = d[r]!; identVisitor[p] = v[r]!; identReceived[p] = received[r]!;
      }
    }
    for (const col of Object.values(x)) col.clear();
    const built: Built = {
      actStart: act.start, actT, viewStart, viewT, viewId, viewOpt, viewVar, identStart: ident.start, identDomain, identVisitor, identReceived,
    };
    this.#built = built;
    this.#pending = false;
    return this;
  }

  /**
   * The built index as arrays (views, not copies) for a snapshot a later run starts from
   * (snapshot.ts): the interner's, the session ids', then the built columns.
   */
  parts(): (Col | Uint8Array)[] {
    const b = this.#ready();
    const others: number[] = [];
    for (const [session, visitors] of this.#sessionOthers) others.push(session, visitors.length, ...visitors);
    return [...this.#strings.parts(), this.#sessionVisitor.view(), Int32Array.from(others), ...BUILT.map((k) => b[k])];
  }

  /** Whether its arrays are all in shared memory, so that another thread given parts() reads them as they are (judge-thread.ts). */
  isShared(): boolean {
    const b = this.#ready();
    return [...this.#strings.parts(), this.#sessionVisitor.view(), ...BUILT.map((k) => b[k])].every(isShared);
  }

  /**
   * The index parts() described, on these arrays (adopted as they are, each alone in its memory:
   * a snapshot's, with room after them to grow into); throws when they do not fit together.
   */
  static fromParts(rules: SessionRules, parts: readonly (Col | Uint8Array)[]): ActivityIndex {
    const [arena, starts, table, sessionVisitor, others, ...built] = parts;
    const i32s = [starts, table, sessionVisitor, others];
    if (!(arena instanceof Uint8Array) || !i32s.every((p) => p instanceof Int32Array) || built.length !== BUILT.length) throw new Error('Activity snapshot: unexpected parts.');
    const index = new ActivityIndex(rules, isShared(arena));
    index.#strings = Interner.fromParts(arena, starts as Int32Array, table as Int32Array, true);
    index.#sessionVisitor.adopt(sessionVisitor as Int32Array<ArrayBuffer>);
    const o = others as Int32Array;
    for (let i = 0; i < o.length; i += 2 + o[i + 1]!) index.#sessionOthers.set(o[i]!, Array.from(o.subarray(i + 2, i + 2 + o[i + 1]!)));
    const b = Object.fromEntries(BUILT.map((k, i) => [k, built[i]])) as unknown as Built;
    const keys = index.#strings.size;
    for (const k of BUILT) {
      const want = k.endsWith('T') || k === 'viewId' || k === 'identReceived' ? Float64Array : Int32Array;
      if (!(b[k] instanceof want)) throw new Error(`Activity snapshot: ${k} is not a ${want.name}.`);
    }
    const fits = (start: Int32Array, cols: readonly Col[]) => start.length === keys + 1 && cols.every((c) => c.length === start[keys]);
    if (!fits(b.actStart, [b.actT]) || !fits(b.viewStart, [b.viewT, b.viewId, b.viewOpt, b.viewVar]) || !fits(b.identStart, [b.identDomain, b.identVisitor, b.identReceived])) {
      throw new Error('Activity snapshot: the columns do not fit the strings.');
    }
    index.#built = b;
    return index;
  }

  #ready(): Built {
    return this.#pending || this.#built === null ? this.build().#built! : this.#built;
  }

  // ---- by number: the run's hot loop -------------------------------------------------------

  /** The number of a string seen by the index, or -1. */
  idOf(s: string | null): number {
    return s === null ? -1 : this.#strings.find(s);
  }

  nameOf(k: number): string {
    return this.#strings.name(k);
  }

  /** Orders two numbered strings as their names order. */
  compareIds(a: number, b: number): number {
    return this.#strings.compare(a, b);
  }

  /** True when k is a visitor with browser activity. */
  isVisitor(k: number): boolean {
    const b = this.#ready();
    return k >= 0 && k < b.actStart.length - 1 && b.actStart[k + 1]! > b.actStart[k]!;
  }

  visitorsOfSessionId(s: number): number[] {
    const out = new VisitorSet();
    this.addVisitorsOfSession(s, out);
    return out.toArray();
  }

  /** Adds the visitors that sent session id s to `out`. */
  addVisitorsOfSession(s: number, out: VisitorSet): void {
    if (s < 0 || s >= this.#sessionVisitor.length) return;
    const first = this.#sessionVisitor.get(s) - 1;
    if (first < 0) return;
    out.add(first);
    const others = this.#sessionOthers.get(s);
    if (others !== undefined) for (const v of others) out.add(v);
  }

  visitorsOfUserId(domain: number, user: number, receivedBy: number): number[] {
    const out = new VisitorSet();
    this.addVisitorsOfUser(domain, user, receivedBy, out);
    return out.toArray();
  }

  /** Adds the visitors that sent setUserId(domain, user) in an identify received no later than `receivedBy` to `out`. */
  addVisitorsOfUser(domain: number, user: number, receivedBy: number, out: VisitorSet): void {
    const b = this.#ready();
    if (user < 0 || user >= b.identStart.length - 1) return;
    for (let j = b.identStart[user]!; j < b.identStart[user + 1]!; j++) {
      if (b.identDomain[j] === domain && b.identReceived[j]! <= receivedBy) out.add(b.identVisitor[j]!);
    }
  }

  /** The index of visitor v's latest view of optimization o at or before t (ties: the later event), or -1; read it with viewAt(). */
  latestViewIndex(v: number, o: number, t: number): number {
    const b = this.#ready();
    if (v < 0 || o < 0 || v >= b.viewStart.length - 1) return -1;
    const a = b.viewStart[v]!;
    const times = b.viewT;
    // The last view at or before t, by bisection over [a, end).
    let lo = a;
    let hi = b.viewStart[v + 1]! - 1;
    let found = a - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = found; i >= a; i--) if (b.viewOpt[i] === o) return i;
    return -1;
  }

  viewTime(i: number): number {
    return this.#ready().viewT[i]!;
  }

  viewEventId(i: number): number {
    return this.#ready().viewId[i]!;
  }

  /** The number of view i's variation key. */
  viewVariationId(i: number): number {
    return this.#ready().viewVar[i]!;
  }

  viewVariation(i: number): string {
    return this.#strings.name(this.#ready().viewVar[i]!);
  }

  #timesOf(v: number): Float64Array {
    const b = this.#ready();
    if (v < 0 || v >= b.actStart.length - 1) return new Float64Array(0);
    return b.actT.subarray(b.actStart[v], b.actStart[v + 1]);
  }

  /** The session of visitor v holding activity time t (as sessions() would cut it, without building them all). */
  sessionAtId(v: number, t: number): SessionSpan | null {
    const out: SessionSpan = { start: 0, end: 0, capped: false };
    return this.sessionAtInto(v, t, out) ? out : null;
  }

  /** sessionAtId into `out` (the hot loop's form: no object per call); false when v has no activity. */
  sessionAtInto(v: number, t: number, out: SessionSpan): boolean {
    const b = this.#ready();
    if (v < 0 || v >= b.actStart.length - 1) return false;
    const from = b.actStart[v]!;
    const to = b.actStart[v + 1]!;
    if (from === to) return false;
    const times = b.actT;
    const { timeoutMs, maxMs } = this.rules;
    let start = times[from]!;
    let last = start;
    for (let i = from + 1; i < to; i++) {
      const x = times[i]!;
      if (x - last > timeoutMs || x - start > maxMs) {
        if (x > t) break;
        start = x;
      }
      last = x;
    }
    const idle = last + timeoutMs;
    const cap = start + maxMs;
    out.start = start;
    out.end = Math.min(idle, cap);
    out.capped = cap < idle;
    return true;
  }

  /** Writes the name of k as ByteWriter.literal does, from its UTF-8 bytes (a run writing outcomes: no JS string made). */
  writeBytes(out: ByteWriter, k: number): void {
    this.#strings.writeLiteral(out, k);
  }

  /** Feeds the name of string k to a fingerprint (its UTF-8 bytes, as Fingerprint.str would), without decoding it. */
  fingerprintName(f: Fingerprint, k: number): void {
    this.#strings.fingerprint(f, k);
  }

  // ---- by string: explanations, journeys, previews --------------------------------------------

  hasVisitor(visitorId: string): boolean {
    return this.isVisitor(this.idOf(visitorId));
  }

  visitorsOfSession(sessionId: string): string[] {
    return this.visitorsOfSessionId(this.idOf(sessionId)).map((v) => this.nameOf(v));
  }

  /** Visitors that sent setUserId(domain, id) in an identify received no later than `receivedBy`. */
  visitorsOfUser(domain: string, id: string, receivedBy: number): string[] {
    const d = this.idOf(domain);
    return d < 0 ? [] : this.visitorsOfUserId(d, this.idOf(id), receivedBy).map((v) => this.nameOf(v));
  }

  sessions(visitorId: string): Sessions {
    return sessionize(this.#timesOf(this.idOf(visitorId)), this.rules);
  }

  sessionAt(visitorId: string, t: number): SessionSpan | null {
    return this.sessionAtId(this.idOf(visitorId), t);
  }

  /** The visitor's latest view of `optimization` at or before `t` (ties: the later event). */
  latestView(visitorId: string, optimization: string, t: number): View | null {
    const i = this.latestViewIndex(this.idOf(visitorId), this.idOf(optimization), t);
    return i < 0 ? null : { t: this.viewTime(i), id: this.viewEventId(i), variation: this.viewVariation(i) };
  }

  /** All views of a visitor (for journeys), by optimization, each in time order. */
  views(visitorId: string): ReadonlyMap<string, readonly View[]> {
    const out = new Map<string, View[]>();
    const v = this.idOf(visitorId);
    const b = this.#ready();
    if (v < 0 || v >= b.viewStart.length - 1) return out;
    for (let i = b.viewStart[v]!; i < b.viewStart[v + 1]!; i++) {
      const key = this.nameOf(b.viewOpt[i]!);
      const list = out.get(key) ?? [];
      list.push({ t: b.viewT[i]!, id: b.viewId[i]!, variation: this.nameOf(b.viewVar[i]!) });
      out.set(key, list);
    }
    return out;
  }

  activityTimes(visitorId: string): readonly number[] {
    return [...this.#timesOf(this.idOf(visitorId))];
  }
}

export { lastAtOrBefore };

/** A few distinct visitor numbers, in the order added (a conversion names one or two): reused across conversions. */
export class VisitorSet {
  items = new Int32Array(8);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  add(v: number): void {
    for (let i = 0; i < this.size; i++) if (this.items[i] === v) return;
    if (this.size === this.items.length) {
      const next = new Int32Array(this.size * 2);
      next.set(this.items);
      this.items = next;
    }
    this.items[this.size++] = v;
  }

  toArray(): number[] {
    return Array.from(this.items.subarray(0, this.size));
  }
}
