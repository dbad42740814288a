import { EVENT_TYPES } from '../core/index.js';
import { Interner } from '../core/interner.js';
import { eventAt, REF, stringAt, typeCode, type EventColumns, type ScannedEvent, type Store } from '../store/index.js';
import { ActivityIndex, ACTIVITY_TYPES } from './activity.js';
import type { ConversionInput } from './engine.js';
import type { SessionRules } from './sessions.js';

const { visitorId: VISITOR, sessionId: SESSION, userId: USER } = REF;
const IDENTIFY = typeCode('identify');

/**
 * A few ids (visitors, sessions, users) to find among a workspace's events, matched against each
 * chunk's strings by their bytes: finding one visitor's events reads the columns once and makes
 * an object only for the rows that match, instead of loading the whole workspace.
 */
export class IdSet {
  readonly #ids = new Interner();

  constructor(ids: Iterable<string> = []) {
    for (const id of ids) this.add(id);
  }

  add(id: string): void {
    this.#ids.intern(id);
  }

  get size(): number {
    return this.#ids.size;
  }

  /** The ids, for a store to skip the chunks that hold none of them (readColumns' `ids`). */
  wanted(): { ids: string[] } {
    return { ids: Array.from({ length: this.#ids.size }, (_, k) => this.#ids.name(k)) };
  }

  /** For one chunk: whether its string reference r is one of the ids (each reference looked up once). */
  matcher(c: EventColumns): (r: number) => boolean {
    const known = new Uint8Array(c.offsets.length - 1); // 0: not looked up yet, 1: one of the ids, 2: not
    return (r) => {
      if (r === 0) return false;
      let k = known[r]!;
      if (k === 0) k = known[r] = this.#ids.findBytes(c.bytes, c.offsets[r]!, c.offsets[r + 1]!) >= 0 ? 1 : 2;
      return k === 1;
    };
  }
}

/** Visits, as objects, the events (received up to `until`) whose visitorId is one of `visitors`, in id order. */
export async function eachEventOf(store: Store, workspaceId: string, until: number, visitors: IdSet, fn: (e: ScannedEvent) => void): Promise<void> {
  await store.attribution.readColumns(workspaceId, until, (c) => {
    const isOne = visitors.matcher(c);
    for (let i = 0; i < c.n; i++) if (isOne(c.refs[VISITOR * c.n + i]!)) fn(eventAt(c, i));
  }, 0, visitors.wanted());
}

/**
 * The browser activity of every visitor that the conversions could name (rule 2: by visitor id,
 * session id, or an identity as the user), in an index of their own: judging the conversions
 * against it gives what judging them against the whole workspace gives, since only these
 * visitors can be among theirs. Reads the columns twice; loads nothing else.
 */
export async function activityNamedBy(store: Store, workspaceId: string, until: number, rules: SessionRules, conversions: readonly ConversionInput[]): Promise<ActivityIndex> {
  const [visitors, sessions, users] = [new IdSet(), new IdSet(), new IdSet()];
  for (const c of conversions) {
    if (c.visitorId !== null) visitors.add(c.visitorId);
    if (c.sessionId !== null) sessions.add(c.sessionId);
    if (c.userId !== null) users.add(c.userId);
  }
  // Every visitor that sent one of these visitor or session ids, or was identified with one of
  // these user ids (in any domain, at any time: a few more than the rules take does no harm).
  const candidates = new IdSet();
  await store.attribution.readColumns(workspaceId, until, (c) => {
    const [isVisitor, isSession, isUser] = [visitors.matcher(c), sessions.matcher(c), users.matcher(c)];
    for (let i = 0; i < c.n; i++) {
      const v = c.refs[VISITOR * c.n + i]!;
      if (v === 0 || !ACTIVITY_TYPES.has(EVENT_TYPES[c.type[i]!]!)) continue;
      if (isVisitor(v) || isSession(c.refs[SESSION * c.n + i]!) || (c.type[i] === IDENTIFY && isUser(c.refs[USER * c.n + i]!))) candidates.add(stringAt(c, v));
    }
  }, 0, { ids: [visitors, sessions, users].flatMap((s) => s.wanted().ids) });
  const activity = new ActivityIndex(rules);
  if (candidates.size > 0) await eachEventOf(store, workspaceId, until, candidates, (e) => activity.add(e));
  return activity.build();
}
