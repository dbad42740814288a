import { typeCode, type EventColumns, type ScannedEvent } from '../store/index.js';
import { f64, gather, groupBy, i32 } from './columns.js';
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
const ACTIVITY_CODES = new Set([...ACTIVITY_TYPES].map((t) => typeCode(t as ScannedEvent['type'])));
const VIEW = typeCode('view');
const IDENTIFY = typeCode('identify');
// Positions of the string fields in EventColumns.refs (STRING_FIELDS order).
const VISITOR = 2;
const SESSION = 3;
const DOMAIN = 4;
const USER = 5;
const OPTIMIZATION = 6;
const VARIATION = 7;

const identityKey = (domain: string, id: string): string => `${domain}\u0000${id}`;

/** The frozen, queryable form: per visitor (and per user) a contiguous range of each column. */
interface Built {
  actStart: Int32Array;
  actT: Float64Array;
  viewStart: Int32Array;
  viewT: Float64Array;
  viewId: Float64Array;
  viewOpt: Int32Array;
  viewVar: Int32Array;
  identStart: Int32Array;
  identVisitor: Int32Array;
  identReceived: Float64Array;
}

/** Sorts a visitor's views [a, b) by time, then event id, keeping the columns aligned (a few views: insertion sort). */
function sortViews(b: Built, a: number, end: number): void {
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

/**
 * Per-visitor activity, views, session ids and identities, built from events in any order and
 * then frozen for queries: everything attribution needs to know about visitors. Visitors,
 * sessions, users and keys are numbered once; the events themselves live in typed-array columns
 * grouped by visitor, so ten million views cost a few hundred megabytes and no garbage.
 */
export class ActivityIndex {
  readonly #visitorIds = new Map<string, number>();
  readonly #visitorNames: string[] = [];
  readonly #sessionIds = new Map<string, number>();
  /** Per session: its first visitor; sessions shared by several visitors list the others here. */
  readonly #sessionVisitor = i32();
  readonly #sessionOthers = new Map<number, number[]>();
  readonly #userIds = new Map<string, number>();
  readonly #keyIds = new Map<string, number>();
  readonly #keyNames: string[] = [];
  // Events as added, before build().
  readonly #act = { v: i32(), t: f64() };
  readonly #view = { v: i32(), t: f64(), id: f64(), opt: i32(), var: i32() };
  readonly #ident = { u: i32(), v: i32(), r: f64() };
  #built: Built | null = null;

  constructor(private readonly rules: SessionRules) {}

  #number(map: Map<string, number>, names: string[] | null, s: string): number {
    let n = map.get(s);
    if (n === undefined) {
      n = map.size;
      map.set(s, n);
      names?.push(s);
    }
    return n;
  }

  #visitor(s: string): number {
    return this.#number(this.#visitorIds, this.#visitorNames, s);
  }

  #key(s: string): number {
    return this.#number(this.#keyIds, this.#keyNames, s);
  }

  #user(domain: string, id: string): number {
    return this.#number(this.#userIds, null, identityKey(domain, id));
  }

  /** Links a session id to a visitor; returns the session's number. */
  #session(s: string, visitor: number): number {
    const known = this.#sessionIds.get(s);
    if (known === undefined) {
      this.#sessionIds.set(s, this.#sessionIds.size);
      this.#sessionVisitor.push(visitor);
      return this.#sessionIds.size - 1;
    }
    this.#sessionVisit(known, visitor);
    return known;
  }

  #sessionVisit(known: number, visitor: number): void {
    if (this.#sessionVisitor.get(known) === visitor) return;
    const others = this.#sessionOthers.get(known);
    if (others === undefined) this.#sessionOthers.set(known, [visitor]);
    else if (!others.includes(visitor)) others.push(visitor);
  }

  add(e: ActivityEvent): void {
    if (e.visitorId === null || !ACTIVITY_TYPES.has(e.type)) return;
    this.#thaw();
    const v = this.#visitor(e.visitorId);
    this.#act.v.push(v);
    this.#act.t.push(e.occurredAt);
    if (e.sessionId !== null) this.#session(e.sessionId, v);
    if (e.type === 'view' && e.optimization !== null && e.variation !== null) this.#addView(v, e.occurredAt, e.id, this.#key(e.optimization), this.#key(e.variation));
    if (e.type === 'identify' && e.userDomain !== null && e.userId !== null) this.#addIdentity(this.#user(e.userDomain, e.userId), v, e.receivedAt);
  }

  /** Adds the activity events of a chunk of columns (the fast path of a run: no object per event). */
  addColumns(c: EventColumns): void {
    this.#thaw();
    const { n, refs, strings } = c;
    // Each chunk numbers its own strings; map them to the index's numbers once per chunk.
    const visitors = new Int32Array(strings.length).fill(-1);
    const sessions = new Int32Array(strings.length).fill(-1);
    const keys = new Int32Array(strings.length).fill(-1);
    this.#act.v.reserve(n);
    this.#act.t.reserve(n);
    for (let i = 0; i < n; i++) {
      const type = c.type[i]!;
      const vr = refs[VISITOR * n + i]!;
      if (vr === 0 || !ACTIVITY_CODES.has(type)) continue;
      let v = visitors[vr]!;
      if (v < 0) v = visitors[vr] = this.#visitor(strings[vr]!);
      const t = c.occurredAt[i]!;
      this.#act.v.push(v);
      this.#act.t.push(t);
      const sr = refs[SESSION * n + i]!;
      if (sr !== 0) {
        const known = sessions[sr]!;
        if (known < 0) sessions[sr] = this.#session(strings[sr]!, v);
        else this.#sessionVisit(known, v);
      }
      if (type === VIEW) {
        const or = refs[OPTIMIZATION * n + i]!;
        const wr = refs[VARIATION * n + i]!;
        if (or === 0 || wr === 0) continue;
        let o = keys[or]!;
        if (o < 0) o = keys[or] = this.#key(strings[or]!);
        let w = keys[wr]!;
        if (w < 0) w = keys[wr] = this.#key(strings[wr]!);
        this.#addView(v, t, c.id[i]!, o, w);
      } else if (type === IDENTIFY) {
        const dr = refs[DOMAIN * n + i]!;
        const ur = refs[USER * n + i]!;
        if (dr !== 0 && ur !== 0) this.#addIdentity(this.#user(strings[dr]!, strings[ur]!), v, c.receivedAt[i]!);
      }
    }
  }

  #addView(v: number, t: number, id: number, opt: number, variation: number): void {
    const w = this.#view;
    w.v.push(v); w.t.push(t); w.id.push(id); w.opt.push(opt); w.var.push(variation);
  }

  #addIdentity(u: number, v: number, receivedAt: number): void {
    this.#ident.u.push(u); this.#ident.v.push(v); this.#ident.r.push(receivedAt);
  }

  /** Groups what was added by visitor and sorts it by time; queries need it. */
  build(): this {
    if (this.#built !== null) return this;
    const visitors = this.#visitorNames.length;
    const mkF = (n: number) => new Float64Array(n);
    const mkI = (n: number) => new Int32Array(n);

    const act = groupBy(this.#act.v.view(), visitors);
    const actT = gather(this.#act.t.view(), act.order, mkF);
    this.#act.v.clear();
    this.#act.t.clear();
    for (let v = 0; v < visitors; v++) actT.subarray(act.offsets[v], act.offsets[v + 1]).sort();

    const w = this.#view;
    const views = groupBy(w.v.view(), visitors);
    const built: Built = {
      actStart: act.offsets, actT,
      viewStart: views.offsets, viewT: gather(w.t.view(), views.order, mkF), viewId: gather(w.id.view(), views.order, mkF),
      viewOpt: gather(w.opt.view(), views.order, mkI), viewVar: gather(w.var.view(), views.order, mkI),
      identStart: new Int32Array(1), identVisitor: new Int32Array(0), identReceived: new Float64Array(0),
    };
    for (const col of Object.values(w)) col.clear();
    for (let v = 0; v < visitors; v++) sortViews(built, built.viewStart[v]!, built.viewStart[v + 1]!);

    const ids = groupBy(this.#ident.u.view(), this.#userIds.size);
    built.identStart = ids.offsets;
    built.identVisitor = gather(this.#ident.v.view(), ids.order, mkI);
    built.identReceived = gather(this.#ident.r.view(), ids.order, mkF);
    for (const col of Object.values(this.#ident)) col.clear();
    this.#built = built;
    return this;
  }

  /** Events added after build(): put the built columns back to be grouped again with them. */
  #thaw(): void {
    const b = this.#built;
    if (b === null) return;
    this.#built = null;
    for (let v = 0; v < this.#visitorNames.length; v++) {
      for (let j = b.actStart[v]!; j < b.actStart[v + 1]!; j++) { this.#act.v.push(v); this.#act.t.push(b.actT[j]!); }
      for (let j = b.viewStart[v]!; j < b.viewStart[v + 1]!; j++) this.#addView(v, b.viewT[j]!, b.viewId[j]!, b.viewOpt[j]!, b.viewVar[j]!);
    }
    for (let u = 0; u < this.#userIds.size; u++) {
      for (let j = b.identStart[u]!; j < b.identStart[u + 1]!; j++) this.#addIdentity(u, b.identVisitor[j]!, b.identReceived[j]!);
    }
  }

  #ready(): Built {
    return this.#built ?? this.build().#built!;
  }

  hasVisitor(visitorId: string): boolean {
    return this.#visitorIds.has(visitorId);
  }

  /** Every visitor id, in the order first seen. */
  visitorIds(): readonly string[] {
    return this.#visitorNames;
  }

  visitorsOfSession(sessionId: string): string[] {
    const s = this.#sessionIds.get(sessionId);
    if (s === undefined) return [];
    const out = [this.#visitorNames[this.#sessionVisitor.get(s)]!];
    for (const v of this.#sessionOthers.get(s) ?? []) out.push(this.#visitorNames[v]!);
    return out;
  }

  /** Visitors that sent setUserId(domain, id) in an identify received no later than `receivedBy`. */
  visitorsOfUser(domain: string, id: string, receivedBy: number): string[] {
    const u = this.#userIds.get(identityKey(domain, id));
    if (u === undefined) return [];
    const b = this.#ready();
    const out: string[] = [];
    for (let j = b.identStart[u]!; j < b.identStart[u + 1]!; j++) if (b.identReceived[j]! <= receivedBy) out.push(this.#visitorNames[b.identVisitor[j]!]!);
    return out;
  }

  #times(visitorId: string): Float64Array {
    const v = this.#visitorIds.get(visitorId);
    if (v === undefined) return new Float64Array(0);
    const b = this.#ready();
    return b.actT.subarray(b.actStart[v], b.actStart[v + 1]);
  }

  sessions(visitorId: string): Sessions {
    return sessionize(this.#times(visitorId), this.rules);
  }

  /** The session holding activity time t of the visitor (as sessions() would cut it, without building them all). */
  sessionAt(visitorId: string, t: number): SessionSpan | null {
    const times = this.#times(visitorId);
    if (times.length === 0) return null;
    const { timeoutMs, maxMs } = this.rules;
    let start = times[0]!;
    let last = start;
    for (let i = 1; i < times.length; i++) {
      const x = times[i]!;
      if (x - last > timeoutMs || x - start > maxMs) {
        if (x > t) break;
        start = x;
      }
      last = x;
    }
    const idle = last + timeoutMs;
    const cap = start + maxMs;
    return { start, end: Math.min(idle, cap), capped: cap < idle };
  }

  /** The visitor's latest view of `optimization` at or before `t` (ties: the later event). */
  latestView(visitorId: string, optimization: string, t: number): View | null {
    const v = this.#visitorIds.get(visitorId);
    const o = this.#keyIds.get(optimization);
    if (v === undefined || o === undefined) return null;
    const b = this.#ready();
    const a = b.viewStart[v]!;
    for (let i = a + lastAtOrBefore(b.viewT.subarray(a, b.viewStart[v + 1]), t); i >= a; i--) {
      if (b.viewOpt[i] === o) return { t: b.viewT[i]!, id: b.viewId[i]!, variation: this.#keyNames[b.viewVar[i]!]! };
    }
    return null;
  }

  /** All views of a visitor (for journeys), by optimization, each in time order. */
  views(visitorId: string): ReadonlyMap<string, readonly View[]> {
    const out = new Map<string, View[]>();
    const v = this.#visitorIds.get(visitorId);
    if (v === undefined) return out;
    const b = this.#ready();
    for (let i = b.viewStart[v]!; i < b.viewStart[v + 1]!; i++) {
      const key = this.#keyNames[b.viewOpt[i]!]!;
      const list = out.get(key) ?? [];
      list.push({ t: b.viewT[i]!, id: b.viewId[i]!, variation: this.#keyNames[b.viewVar[i]!]! });
      out.set(key, list);
    }
    return out;
  }

  activityTimes(visitorId: string): readonly number[] {
    return [...this.#times(visitorId)];
  }
}

export { lastAtOrBefore };
