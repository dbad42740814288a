import type { ScannedEvent } from '../store/index.js';
import { lastAtOrBefore, sessionize, type SessionRules, type Sessions } from './sessions.js';

/** The fields of a stored event that the activity index reads. */
export type ActivityEvent = Pick<ScannedEvent, 'id' | 'type' | 'visitorId' | 'sessionId' | 'userDomain' | 'userId' | 'optimization' | 'variation' | 'occurredAt' | 'receivedAt'>;

export interface View {
  t: number;
  id: number;
  variation: string;
}

interface VisitorData {
  times: number[];
  views: Map<string, View[]>;
  sessions: Sessions | null;
}

const identityKey = (domain: string, id: string): string => `${domain}\u0000${id}`;

/** Browser activity is what the snippet and the native API send about a visitor; server-side conversions are not activity. */
export const ACTIVITY_TYPES: ReadonlySet<string> = new Set(['pageview', 'view', 'identify', 'custom']);

/**
 * Per-visitor activity, views, session ids and identities, built from events in any order and
 * then frozen (sorted) for queries. Everything attribution needs to know about visitors.
 */
export class ActivityIndex {
  readonly #visitors = new Map<string, VisitorData>();
  readonly #sessionVisitors = new Map<string, Set<string>>();
  readonly #identities = new Map<string, { visitorId: string; receivedAt: number }[]>();
  #built = false;

  constructor(private readonly rules: SessionRules) {}

  add(e: ActivityEvent): void {
    if (e.visitorId === null || !ACTIVITY_TYPES.has(e.type)) return;
    this.#built = false;
    let v = this.#visitors.get(e.visitorId);
    if (v === undefined) {
      v = { times: [], views: new Map(), sessions: null };
      this.#visitors.set(e.visitorId, v);
    }
    v.times.push(e.occurredAt);
    v.sessions = null;
    if (e.sessionId !== null) {
      let set = this.#sessionVisitors.get(e.sessionId);
      if (set === undefined) this.#sessionVisitors.set(e.sessionId, (set = new Set()));
      set.add(e.visitorId);
    }
    if (e.type === 'view' && e.optimization !== null && e.variation !== null) {
      let list = v.views.get(e.optimization);
      if (list === undefined) v.views.set(e.optimization, (list = []));
      list.push({ t: e.occurredAt, id: e.id, variation: e.variation });
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
      for (const list of v.views.values()) list.sort((a, b) => a.t - b.t || a.id - b.id);
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
    return [...(this.#sessionVisitors.get(sessionId) ?? [])];
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
    const list = this.#visitors.get(visitorId)?.views.get(optimization);
    if (list === undefined) return null;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.t <= t) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found === -1 ? null : list[found]!;
  }

  /** All views of a visitor (for journeys), by optimization. */
  views(visitorId: string): ReadonlyMap<string, readonly View[]> {
    this.#ready();
    return this.#visitors.get(visitorId)?.views ?? new Map();
  }

  /** Per variation, the distinct visitors with at least one view of `optimization` in [from, to). */
  viewersByVariation(optimization: string, from: number, to: number): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [visitorId, v] of this.#visitors) {
      for (const view of v.views.get(optimization) ?? []) {
        if (view.t < from || view.t >= to) continue;
        let set = out.get(view.variation);
        if (set === undefined) out.set(view.variation, (set = new Set()));
        set.add(visitorId);
      }
    }
    return out;
  }

  activityTimes(visitorId: string): readonly number[] {
    this.#ready();
    return this.#visitors.get(visitorId)?.times ?? [];
  }
}

export { lastAtOrBefore };
