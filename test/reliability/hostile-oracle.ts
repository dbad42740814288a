/**
 * What the answer to a hostile request must be: never a 5xx; a refusal is JSON with a sentence,
 * and names the field or rule when the request had to be refused; and Object.prototype (with the
 * other built-in prototypes) comes out as it went in.
 */
import type { Hostile } from './hostile-input.js';

// ---- Object.prototype and friends must come out as they went in ---------------------------------

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype, Boolean.prototype] as const;
const snapshotPrototypes = () => PROTOTYPES.map((p) => Object.getOwnPropertyDescriptors(p));
const BASELINE = snapshotPrototypes();

/** Object.prototype (and the other built-in prototypes) hold exactly what they held at start. */
export function pollution(): string | null {
  if (({} as Record<string, unknown>).polluted !== undefined) return '({}).polluted is set';
  const now = snapshotPrototypes();
  for (let i = 0; i < PROTOTYPES.length; i++) {
    const before = BASELINE[i]!;
    const after = now[i]!;
    const keys = new Set([...Reflect.ownKeys(before), ...Reflect.ownKeys(after)]);
    for (const k of keys) {
      const a = (before as Record<PropertyKey, PropertyDescriptor>)[k];
      const b = (after as Record<PropertyKey, PropertyDescriptor>)[k];
      if (a?.value !== b?.value || a?.get !== b?.get || a?.set !== b?.set) return `prototype #${i} changed at ${String(k)}`;
    }
  }
  return null;
}

// ---- the answers ------------------------------------------------------------------------------

/** The sentence of a refusal, in whichever dialect's shape it came. */
export function messageOf(body: any): string | null {
  if (body === null || typeof body !== 'object') return null;
  for (const m of [body.error?.message, body.message, body.error]) if (typeof m === 'string' && m.trim() !== '') return m;
  return null;
}

/** The batch indexes a 2xx reports as rejected, with the text of each rejection. */
function rejectedInBatch(body: any): Map<number, string> {
  const out = new Map<number, string>();
  // Native and Convultra list every event's result; Web Analyzer and /collect list the rejected ones.
  for (const r of Array.isArray(body?.results) ? body.results : []) {
    if (typeof r?.index === 'number' && (r.status === 'rejected' || r.success === false)) out.set(r.index, JSON.stringify(r));
  }
  for (const r of Array.isArray(body?.rejected) ? body.rejected : []) if (typeof r?.index === 'number') out.set(r.index, JSON.stringify(r));
  return out;
}

export interface Answer { status: number; body: any; raw: string }

/** What is wrong with the answer to a hostile request, or null. */
export function judge(h: Hostile, res: Answer): string | null {
  if (res.status >= 500) return `answered ${res.status}: ${res.raw.slice(0, 300)}`;
  const mentions = (text: string) => h.names.some((n) => text.toLowerCase().includes(n.toLowerCase()));
  if (res.status >= 400) {
    if (messageOf(res.body) === null) return `a ${res.status} without a JSON error message: ${res.raw.slice(0, 300)}`;
    if (h.mustFail && !mentions(res.raw)) return `a ${res.status} that does not name ${h.names.join(' or ')}: ${res.raw.slice(0, 300)}`;
    return null;
  }
  if (!h.mustFail) return null;
  const rejection = h.batchIndex === undefined ? undefined : rejectedInBatch(res.body).get(h.batchIndex);
  if (rejection !== undefined && mentions(rejection)) return null;
  return `accepted (${res.status}) although it must be refused: ${res.raw.slice(0, 300)}`;
}
