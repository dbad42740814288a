import { effectiveSettings, type WorkspaceSettings } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { Workspace, WorkspaceStore } from '../store/index.js';

export interface ResolvedWorkspace {
  workspace: Workspace;
  settings: WorkspaceSettings;
}

/**
 * Workspaces with their settings in force, cached for `ttlMs`: a request costs no store read for
 * them. A PATCH through this process takes effect at once (invalidate), through another
 * process within the TTL.
 */
export class WorkspaceDirectory {
  readonly #cache = new Map<string, { value: ResolvedWorkspace | null; until: number }>();

  constructor(private readonly store: WorkspaceStore, private readonly clock: Clock, private readonly ttlMs = 5000) {}

  async get(id: string): Promise<ResolvedWorkspace | null> {
    const now = this.clock.now();
    const hit = this.#cache.get(id);
    if (hit !== undefined && hit.until > now) return hit.value;
    const ws = await this.store.get(id);
    const value = ws === null ? null : { workspace: ws, settings: effectiveSettings(ws.settings) };
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(id, { value, until: now + this.ttlMs });
    return value;
  }

  invalidate(id: string): void {
    this.#cache.delete(id);
  }
}
