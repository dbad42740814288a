import { Cron } from 'croner';
import { effectiveSettings } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import { INDEX_POLICY, indexDue, type IndexPolicy } from './indexer.js';
import type { AttributionRunner } from './runner.js';

/** The next instant after `after` that a cron expression (UTC) names, or null for an invalid one. */
export function nextCronRun(expression: string, after: number): number | null {
  try {
    const cron = new Cron(expression, { timezone: 'UTC', paused: true });
    const next = cron.nextRun(new Date(after));
    cron.stop();
    return next === null ? null : next.getTime();
  } catch {
    return null;
  }
}

/** How long after a failed indexing a workspace is left alone before it is tried again. */
export const INDEX_RETRY_MS = 60 * 60_000;

interface Due {
  full: number | null;
  incremental: number | null;
  schedule: string;
  interval: number | null;
}

export interface ScheduledRun {
  workspaceId: string;
  /** `index`: the workspace's events indexed for its next run (indexer.ts), run nothing being due. */
  mode: 'full' | 'incremental' | 'index';
  ok: boolean;
}

/**
 * Runs attribution on each workspace's schedule (spec/attribution.md "Schedule"): a full run at
 * every `attributionSchedule` instant (cron, UTC; nightly at 00:00 by default) and, when
 * `attributionIntervalSeconds` is set, an incremental run that often. Between runs it indexes a
 * workspace whose events have grown enough since its snapshot (indexer.ts, `indexing`; null: never),
 * so the next run reads only what came since. `tick()` runs what is due by the injected clock; in
 * the service a timer calls it, tests call it directly.
 */
export class AttributionScheduler {
  readonly #due = new Map<string, Due>();
  /** Per workspace whose indexing failed, the instant before which it is not tried again (INDEX_RETRY_MS). */
  readonly #indexRetry = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<ScheduledRun[]> | null = null;

  constructor(
    private readonly store: Store,
    private readonly runner: AttributionRunner,
    private readonly clock: Clock,
    private readonly onError: (workspaceId: string, err: unknown, mode: ScheduledRun['mode']) => void = () => {},
    private readonly indexing: IndexPolicy | null = INDEX_POLICY,
  ) {}

  /** Runs everything due now, one workspace after another; resolves to what ran. */
  tick(): Promise<ScheduledRun[]> {
    this.#ticking ??= this.#tick().finally(() => { this.#ticking = null; });
    return this.#ticking;
  }

  async #tick(): Promise<ScheduledRun[]> {
    const now = this.clock.now();
    const ran: ScheduledRun[] = [];
    for (const ws of await this.store.workspaces.list()) {
      const s = effectiveSettings(ws.settings);
      let due = this.#due.get(ws.id);
      if (due === undefined || due.schedule !== s.attributionSchedule || due.interval !== s.attributionIntervalSeconds) {
        due = {
          full: nextCronRun(s.attributionSchedule, now),
          incremental: s.attributionIntervalSeconds === null ? null : now + s.attributionIntervalSeconds * 1000,
          schedule: s.attributionSchedule,
          interval: s.attributionIntervalSeconds,
        };
        this.#due.set(ws.id, due);
        continue;
      }
      const mode = due.full !== null && now >= due.full ? 'full' : due.incremental !== null && now >= due.incremental ? 'incremental' : null;
      if (mode === null) {
        await this.#indexIfDue(ws.id, ran);
        continue;
      }
      try {
        await this.runner.run(ws.id, { mode });
        ran.push({ workspaceId: ws.id, mode, ok: true });
      } catch (err) {
        this.onError(ws.id, err, mode);
        ran.push({ workspaceId: ws.id, mode, ok: false });
      }
      // A full run also brings the incremental schedule up to date.
      if (mode === 'full') due.full = nextCronRun(s.attributionSchedule, now);
      if (due.interval !== null) due.incremental = now + due.interval * 1000;
    }
    return ran;
  }

  /**
   * Indexes the workspace when its events have grown enough since its snapshot; adds it to `ran`
   * when it wrote one, or failed. One that failed (a full disk, say) is not tried again for
   * INDEX_RETRY_MS: it reads every event before it fails, and would otherwise do so every tick.
   */
  async #indexIfDue(workspaceId: string, ran: ScheduledRun[]): Promise<void> {
    const now = this.clock.now();
    if (this.indexing === null || now < (this.#indexRetry.get(workspaceId) ?? now)) return;
    try {
      if (!(await indexDue(this.store, workspaceId, this.indexing))) return;
      // Not written: a run or indexing in another process held the workspace (its run writes a snapshot).
      if ((await this.runner.index(workspaceId)).indexed) ran.push({ workspaceId, mode: 'index', ok: true });
      this.#indexRetry.delete(workspaceId);
    } catch (err) {
      this.#indexRetry.set(workspaceId, now + INDEX_RETRY_MS);
      this.onError(workspaceId, err, 'index');
      ran.push({ workspaceId, mode: 'index', ok: false });
    }
  }

  start(everyMs = 15_000): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => { void this.tick(); }, everyMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
  }
}
