/**
 * A ledger client: every request it sends and what came of it, per idempotency key. A request
 * that timed out or lost its connection is "unknown" (it may or may not have been stored); a
 * 2xx is "acked" (it must be stored exactly once); any other answer is "refused".
 *
 * `verify` then checks a store's contents against the ledger: every acked key exactly once,
 * unknown keys at most once, keys only ever refused never, and nothing stored that was never sent.
 */
import type { RealServer } from '../helpers/server.js';
import { adminRequest } from '../helpers/server.js';

export type Outcome = 'acked' | 'refused' | 'unknown';

export interface Attempt {
  outcome: Outcome;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** The answer's body (text), or the error's message. */
  detail: string;
  retryAfter: string | null;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Request timeout in ms; past it the attempt is "unknown". */
  timeoutMs?: number;
  /** Whether a 2xx acknowledges the keys (true by default). Set false for answers that acknowledge only part of a batch, and call `ack` yourself. */
  ackOn2xx?: boolean;
}

export class Ledger {
  readonly attempts = new Map<string, Attempt[]>();
  requests = 0;
  readonly statuses = new Map<string, number>();

  /**
   * Sends one request carrying the events with these idempotency keys, and records what came
   * of it for each key. Resolves to the attempt (and the parsed JSON answer, if any).
   */
  async send(url: string, keys: readonly string[], body: string | Uint8Array, opts: SendOptions = {}): Promise<Attempt & { json: unknown }> {
    this.requests++;
    let attempt: Attempt;
    let json: unknown = undefined;
    try {
      const res = await fetch(url, {
        method: opts.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON
      }
      const ok = res.status >= 200 && res.status < 300;
      attempt = {
        outcome: ok ? ((opts.ackOn2xx ?? true) ? 'acked' : 'unknown') : 'refused',
        status: res.status, detail: text, retryAfter: res.headers.get('retry-after'),
      };
    } catch (e) {
      attempt = { outcome: 'unknown', status: null, detail: (e as Error).message, retryAfter: null };
    }
    const statusKey = attempt.status === null ? 'no answer' : String(attempt.status);
    this.statuses.set(statusKey, (this.statuses.get(statusKey) ?? 0) + 1);
    for (const k of keys) this.record(k, attempt);
    return { ...attempt, json };
  }

  /** Records an outcome for one key (for answers that judge a batch's events one by one). */
  record(key: string, attempt: Attempt): void {
    const list = this.attempts.get(key);
    if (list) list.push(attempt);
    else this.attempts.set(key, [attempt]);
  }

  /** The keys whose best outcome is `outcome` (acked beats unknown beats refused). */
  keys(outcome: Outcome): string[] {
    const out: string[] = [];
    for (const [k, list] of this.attempts) if (best(list) === outcome) out.push(k);
    return out;
  }

  count(outcome: Outcome): number {
    return this.keys(outcome).length;
  }

  /**
   * Compares the store's contents (key → how many times stored) with the ledger. Resolves to the
   * list of violations, empty when the store keeps every promise.
   */
  verify(stored: ReadonlyMap<string, number>): string[] {
    const problems: string[] = [];
    for (const [k, list] of this.attempts) {
      const n = stored.get(k) ?? 0;
      const b = best(list);
      if (b === 'acked' && n !== 1) problems.push(`${k}: acknowledged, stored ${n} times`);
      if (b === 'unknown' && n > 1) problems.push(`${k}: unknown, stored ${n} times`);
      if (b === 'refused' && n !== 0) problems.push(`${k}: refused every time (${list.map((a) => a.status).join(', ')}), stored ${n} times`);
    }
    for (const [k, n] of stored) if (!this.attempts.has(k)) problems.push(`${k}: never sent, stored ${n} times`);
    return problems;
  }

  /** One line for the figures: requests, statuses, keys by outcome. */
  summary(): string {
    const statuses = [...this.statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ');
    return `${this.requests} requests (${statuses}); keys: ${this.count('acked')} acked, ${this.count('unknown')} unknown, ${this.count('refused')} refused`;
  }
}

function best(list: readonly Attempt[]): Outcome {
  if (list.some((a) => a.outcome === 'acked')) return 'acked';
  if (list.some((a) => a.outcome === 'unknown')) return 'unknown';
  return 'refused';
}

/**
 * How many times each idempotency key is stored in a workspace, read back through the admin
 * API page by page.
 */
export async function storedCounts(server: RealServer, adminToken: string, workspace: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after: number | null = null;
  for (;;) {
    const page: { events: { id: number; idempotencyKey: string | null }[]; next: number | null } =
      await adminRequest(server, adminToken, 'GET', `/workspaces/${workspace}/events?limit=1000${after === null ? '' : `&after=${after}`}`);
    for (const e of page.events) {
      const k = e.idempotencyKey ?? `(no key: event ${e.id})`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    if (page.next === null) return counts;
    after = page.next;
  }
}
