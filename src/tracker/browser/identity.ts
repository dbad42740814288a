import { w } from './env.js';
import { get, getJson, set, setJson } from './storage.js';

/** Storage keys. `ot_vid` is the Web Analyzer tracker's (its docs tell backends to read it), kept as a mirror. */
const VISITOR = 'cl_vid';
const OT_VID = 'ot_vid';
const SESSION = 'cl_s';

/** A random (version 4) UUID. getRandomValues, unlike randomUUID, also exists on plain-http pages. */
export function uuid(): string {
  const random = w.crypto.getRandomValues(new Uint8Array(31));
  let i = 0;
  // x: any hex digit; y: 8, 9, a or b (the RFC 4122 variant)
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => (c === 'x' ? random[i++]! & 15 : (random[i++]! & 3) | 8).toString(16));
}

/** The visitor's id, made on first use and written to both keys. */
export function visitorId(): string {
  const id = get(VISITOR) || uuid();
  set(VISITOR, id);
  set(OT_VID, id);
  return id;
}

/** Session rules in milliseconds (workspace settings sessionTimeoutMinutes and sessionMaxHours). */
export const rules = { timeout: 30 * 60_000, max: 24 * 3_600_000 };

interface Session { i: string; s: number; l: number }

/**
 * The current session, started anew when more than `rules.timeout` passed since its last
 * activity or `rules.max` since its start: the rule the attribution engine applies to the same
 * events (spec/attribution.md rule 4), so the id a backend sends names the session the server sees.
 * @param touch whether this is activity (an event is recorded now)
 * @returns the id, and whether this call started it
 */
export function session(touch: boolean): [string, boolean] {
  const now = Date.now();
  let s = getJson<Session>(SESSION);
  const started = s === undefined || now - s.l > rules.timeout || now - s.s > rules.max;
  if (started) s = { i: uuid(), s: now, l: now };
  if (touch) s!.l = now;
  if (started || touch) setJson(SESSION, s);
  return [s!.i, started];
}
