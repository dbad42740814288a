import type { ScannedEvent } from '../store/index.js';
import { lastAtOrBefore, sessionize, type SessionRules, type Sessions } from './sessions.js';

/** The fields of a stored event that the activity index reads. */
export type ActivityEvent = Pick<ScannedEvent, 'id' | 'type' | 'visitorId' | 'sessionId' | 'userDomain' | 'userId' | 'optimization' | 'variation' | 'occurredAt' | 'receivedAt'>;

export interface View {
  t: number;
  id: number;
  variation: string;
}

/**
 * One visitor, in parallel arrays rather than an object per event: millions of views then cost a
 * few numbers each, not an object and a map entry (memory and garbage collection dominate a run).
 */
interface VisitorData {
  times: number[];
  viewT: number[];
  viewId: number[];
  viewOpt: string[];
  viewVar: string[];
  sessions: Sessions | null;
}

const identityKey = (domain: string, id: string): string => `${domain}\u0000${id}`;

/** Browser activity is what the snippet and the native API send about a visitor; server-side conversions are not activity. */
export const ACTIVITY_TYPES: ReadonlySet<string> = new Set(['pageview', 'view', 'identify', 'custom']);

/** Views sorted by time, then event id, keeping the four arrays aligned. */
function sortViews(v: VisitorData): void {
  const n = v.viewT.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = v.viewT[i - 1]! < v.viewT[i]! || (v.viewT[i - 1] === v.viewT[i] && v.viewId[i - 1]! <= v.viewId[i]!);
  if (sorted) return;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v.viewT[a]! - v.viewT[b]! || v.viewId[a]! - v.viewId[b]!);
  v.viewT = order.map((i) => v.viewT[i]!);
  v.viewId = order.map((i) => v.viewId[i]!);
  v.viewOpt = order.map((i) => v.viewOpt[i]!);
  v.viewVar = order.map((i) => v.viewVar[i]!);
}

/**
 * Per-visitor activity, views, session ids and identities, built from events in any order and
 * then frozen (sorted) for queries. Everything attribution needs to know about visitors.
 */
export class ActivityIndex {
  readonly #visitors = new Map<string, VisitorData>();
  /** Session id → its visitor (almost always one), or its visitors. */
  readonly #sessionVisitors = new Map<string, string | string[]>();
  readonly #identities = new Map<string, { visitorId: string; receivedAt: number }[]>();
  /** One string per optimization and variation key, however many events repeat it. */
  readonly #names = new Map<string, string>();
  #built = false;

  constructor(private readonly rules: SessionRules) {}

  #intern(s: string): string {
    const known = this.#names.get(s);
    if (known !== undefined) return known;
    this.#names.set(s, s);
    return s;
  }

  add(e: ActivityEvent): void {
    if (e.visitorId === null || !ACTIVITY_TYPES.has(e.type)) return;
    this.#built = false;
    let v = this.#visitors.get(e.visitorId);
    if (v === undefined) {
      v = { times: [], viewT: [], viewId: [], viewOpt: [], viewVar: [], sessions: null };
      this.#visitors.set(e.visitorId, v);
    }
    v.times.push(e.occurredAt);
    v.sessions = null;
    if (e.sessionId !== null) {
      const known = this.#sessionVisitors.get(e.sessionId);
      if (known === undefined) this.#sessionVisitors.set(e.sessionId, e.visitorId);
      else if (typeof known === 'string') { if (known !== e.visitorId) this.#sessionVisitors.set(e.sessionId, [known, e.visitorId]); }
      else if (!known.includes(e.visitorId)) known.push(e.visitorId);
    }
    if (e.type === 'view' && e.optimization !== null && e.variation !== null) {
      v.viewT.push(e.occurredAt);
      v.viewId.push(e.id);
      v.viewOpt.push(this.#intern(e.optimization));
      v.viewVar.push(this.#intern(e.variation));
    }
    if (e.type === 'identify' && e.userDomain !== null && e.userId !== null) {
      const key = identityKey(e.userDomain, e.userId);
      let list = this.#identities.get(key);
      if (list === undefined) this.#identities.set(key, (list = []));
      list.push({ visitorId: e.visitorId, receivedAt: e.receivedAt });
    }
  }

  /** Sorts what was added; queries need it. */
  build(): this {
    for (const v of this.#visitors.values()) {
      v.times.sort((a, b) => a - b);
      sortViews(v);
    }
    this.#built = true;
    return this;
  }

  #ready(): void {
    if (!this.#built) this.build();
  }

  hasVisitor(visitorId: string): boolean {
    return this.#visitors.has(visitorId);
  }

  visitorsOfSession(sessionId: string): string[] {
    const known = this.#sessionVisitors.get(sessionId);
    return known === undefined ? [] : typeof known === 'string' ? [known] : [...known];
  }

  /** Visitors that sent setUserId(domain, id) in an identify received no later than `receivedBy`. */
  visitorsOfUser(domain: string, id: string, receivedBy: number): string[] {
    return (this.#identities.get(identityKey(domain, id)) ?? []).filter((i) => i.receivedAt <= receivedBy).map((i) => i.visitorId);
  }

  sessions(visitorId: string): Sessions {
    this.#ready();
    const v = this.#visitors.get(visitorId);
    if (v === undefined) return { starts: [], ends: [], capped: [] };
    v.sessions ??= sessionize(v.times, this.rules);
    return v.sessions;
  }

  /** The visitor's latest view of `optimization` at or before `t` (ties: the later event). */
  latestView(visitorId: string, optimization: string, t: number): View | null {
    this.#ready();
    const v = this.#visitors.get(visitorId);
    if (v === undefined) return null;
    for (let i = lastAtOrBefore(v.viewT, t); i >= 0; i--) {
      if (v.viewOpt[i] === optimization) return { t: v.viewT[i]!, id: v.viewId[i]!, variation: v.viewVar[i]! };
    }
    return null;
  }

  /** All views of a visitor (for journeys), by optimization, each in time order. */
  views(visitorId: string): ReadonlyMap<string, readonly View[]> {
    this.#ready();
    const out = new Map<string, View[]>();
    const v = this.#visitors.get(visitorId);
    if (v === undefined) return out;
    v.viewT.forEach((t, i) => {
      const list = out.get(v.viewOpt[i]!) ?? [];
      list.push({ t, id: v.viewId[i]!, variation: v.viewVar[i]! });
      out.set(v.viewOpt[i]!, list);
    });
    return out;
  }

  activityTimes(visitorId: string): readonly number[] {
    this.#ready();
    return this.#visitors.get(visitorId)?.times ?? [];
  }
}

export { lastAtOrBefore };
