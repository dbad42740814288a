import type { Clock } from '../core/index.js';
import type { EventStore } from '../store/index.js';

const month = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

/**
 * Events accepted this UTC month per workspace. Read from the store once per `ttlMs` and counted
 * up locally in between, so checking a quota costs no store read per request.
 */
export class QuotaCounter {
  readonly #counts = new Map<string, { month: string; count: number; until: number }>();

  constructor(private readonly events: EventStore, private readonly clock: Clock, private readonly ttlMs = 5000) {}

  async used(workspaceId: string): Promise<number> {
    const now = this.clock.now();
    const m = month(now);
    const hit = this.#counts.get(workspaceId);
    if (hit !== undefined && hit.month === m && hit.until > now) return hit.count;
    const count = await this.events.monthlyCount(workspaceId, now);
    this.#counts.set(workspaceId, { month: m, count, until: now + this.ttlMs });
    return count;
  }

  add(workspaceId: string, n: number): void {
    const hit = this.#counts.get(workspaceId);
    if (hit !== undefined) hit.count += n;
  }
}
