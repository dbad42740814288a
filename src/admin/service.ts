import { randomBytes } from 'node:crypto';
import { ServiceError, type Clock } from '../core/index.js';
import { pseudonymiseId } from '../ingest/index.js';
import { newApiKey } from '../auth/index.js';
import { nextCronRun } from '../attribution/index.js';
import type { WorkspaceSettingsInput } from '../config/index.js';
import type { ApiKeyRecord, EventQuery, Goal, Optimization, OptimizationStatus, Store, Workspace } from '../store/index.js';
import type { CreateGoal, CreateKey, CreateOptimization, CreateWorkspace, EventFilters, PatchWorkspace } from './schemas.js';

/** Something the admin asked for cannot be done; `code` is from the error catalog. */
function fail(code: 'not_found' | 'already_exists' | 'field_invalid', message: string): never {
  throw new ServiceError(code, message);
}

/** Listeners told when cached state changed, so the ingest path sees it at once. */
export interface AdminHooks {
  workspaceChanged(id: string): void;
  keyChanged(hash: string): void;
}

/** What the settings schema cannot say: the schedule must be a cron expression that ever fires. */
function checkSettings(settings: WorkspaceSettingsInput | undefined): void {
  const cron = settings?.attributionSchedule;
  if (cron !== undefined && nextCronRun(cron, 0) === null) {
    fail('field_invalid', `settings.attributionSchedule "${cron}" is not a cron expression (UTC), such as "0 0 * * *" for every midnight.`);
  }
}

const noHooks: AdminHooks = { workspaceChanged: () => {}, keyChanged: () => {} };

/**
 * Workspaces, keys, goals and optimizations: the operations behind both the admin API and the
 * CLI, so the two can never disagree.
 */
export class AdminService {
  constructor(private readonly store: Store, private readonly clock: Clock, private readonly hooks: AdminHooks = noHooks) {}

  async workspace(id: string): Promise<Workspace> {
    return (await this.store.workspaces.get(id)) ?? fail('not_found', `Workspace "${id}" does not exist.`);
  }

  async createWorkspace(input: CreateWorkspace): Promise<Workspace> {
    checkSettings(input.settings);
    if ((await this.store.workspaces.get(input.id)) !== null) fail('already_exists', `Workspace "${input.id}" already exists.`);
    return this.store.workspaces.create({ id: input.id, name: input.name ?? input.id, settings: input.settings ?? {}, createdAt: this.clock.now() });
  }

  async listWorkspaces(): Promise<Workspace[]> {
    return this.store.workspaces.list();
  }

  async patchWorkspace(id: string, patch: PatchWorkspace): Promise<Workspace> {
    checkSettings(patch.settings);
    const ws = await this.workspace(id);
    const settings = { ...ws.settings, ...(patch.settings ?? {}) };
    const updated = (await this.store.workspaces.updateSettings(id, settings, patch.name)) ?? fail('not_found', `Workspace "${id}" does not exist.`);
    this.hooks.workspaceChanged(id);
    return updated;
  }

  /** Creates a key; the secret is in the answer and nowhere else, ever. */
  async createKey(workspaceId: string, input: CreateKey): Promise<{ record: ApiKeyRecord; key: string }> {
    await this.workspace(workspaceId);
    const secret = newApiKey(input.kind);
    const record = await this.store.keys.create({
      id: `key_${randomBytes(9).toString('base64url')}`, workspaceId, name: input.name, kind: input.kind, prefix: secret.prefix,
      hash: secret.hash, rateLimitPerMinute: input.rateLimitPerMinute ?? null, createdAt: this.clock.now(), revokedAt: null,
    });
    return { record, key: secret.key };
  }

  async listKeys(workspaceId: string): Promise<ApiKeyRecord[]> {
    await this.workspace(workspaceId);
    return this.store.keys.list(workspaceId);
  }

  async revokeKey(workspaceId: string, id: string): Promise<ApiKeyRecord> {
    const k = (await this.store.keys.revoke(workspaceId, id, this.clock.now())) ?? fail('not_found', `Key "${id}" does not exist in workspace "${workspaceId}".`);
    this.hooks.keyChanged(k.hash);
    return k;
  }

  async createGoal(workspaceId: string, input: CreateGoal): Promise<Goal> {
    await this.workspace(workspaceId);
    await this.#nameIsFree(workspaceId, input.apiName);
    return this.store.goals.create(workspaceId, input.apiName, input.name ?? input.apiName, this.clock.now());
  }

  async renameGoal(workspaceId: string, id: number, apiName: string): Promise<Goal> {
    const goal = (await this.store.goals.get(workspaceId, id)) ?? fail('not_found', `Goal ${id} does not exist in workspace "${workspaceId}".`);
    const current = goal.history.at(-1)!;
    if (current.apiName === apiName) return goal;
    await this.#nameIsFree(workspaceId, apiName);
    // Intervals never overlap or invert, even for two renames in one millisecond or a clock that
    // reads earlier than the last rename (another process, CLOSELOOP_NOW): the new name starts after.
    const at = Math.max(this.clock.now(), current.validFrom + 1);
    return (await this.store.goals.rename(workspaceId, id, apiName, at))!;
  }

  async listGoals(workspaceId: string): Promise<Goal[]> {
    await this.workspace(workspaceId);
    return this.store.goals.list(workspaceId);
  }

  async #nameIsFree(workspaceId: string, apiName: string): Promise<void> {
    const goals = await this.store.goals.list(workspaceId);
    const holder = goals.find((g) => g.history.at(-1)?.apiName === apiName);
    if (holder !== undefined) fail('already_exists', `Goal ${holder.id} is already called "${apiName}"; goal API names are unique in a workspace.`);
  }

  /** Resolves current goal API names to goal ids. */
  async #goalIds(workspaceId: string, names: string[]): Promise<Map<string, number>> {
    const goals = await this.store.goals.list(workspaceId);
    const byName = new Map(goals.map((g) => [g.history.at(-1)!.apiName, g.id]));
    const out = new Map<string, number>();
    for (const n of names) {
      const id = byName.get(n) ?? fail('field_invalid', `goals: there is no goal called "${n}" in workspace "${workspaceId}"; create it first.`);
      out.set(n, id);
    }
    return out;
  }

  async createOptimization(workspaceId: string, input: CreateOptimization): Promise<Optimization> {
    await this.workspace(workspaceId);
    if ((await this.store.optimizations.get(workspaceId, input.key)) !== null) fail('already_exists', `Optimization "${input.key}" already exists.`);
    const keys = input.variations.map((v) => v.key);
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    if (dup !== undefined) fail('field_invalid', `variations: the key "${dup}" is used twice.`);
    const control = input.control ?? keys[0]!;
    if (!keys.includes(control)) fail('field_invalid', `control "${control}" is not one of the variations (${keys.join(', ')}).`);
    const primary = input.primaryGoal ?? input.goals[0]!;
    if (!input.goals.includes(primary)) fail('field_invalid', `primaryGoal "${primary}" must be one of goals (${input.goals.join(', ')}).`);
    const ids = await this.#goalIds(workspaceId, [...new Set(input.goals)]);
    const now = this.clock.now();
    return this.store.optimizations.create({
      workspaceId, key: input.key, name: input.name ?? input.key,
      variations: input.variations.map((v) => ({ key: v.key, name: v.name ?? v.key, weight: v.weight ?? 1 })),
      goalIds: [...ids.values()], primaryGoalId: ids.get(primary)!, control, status: input.status ?? 'running', createdAt: now, updatedAt: now,
    });
  }

  async listOptimizations(workspaceId: string): Promise<Optimization[]> {
    await this.workspace(workspaceId);
    return this.store.optimizations.list(workspaceId);
  }

  async optimization(workspaceId: string, key: string): Promise<Optimization> {
    return (await this.store.optimizations.get(workspaceId, key)) ?? fail('not_found', `Optimization "${key}" does not exist in workspace "${workspaceId}".`);
  }

  async setOptimizationStatus(workspaceId: string, key: string, status: OptimizationStatus): Promise<Optimization> {
    await this.optimization(workspaceId, key);
    return (await this.store.optimizations.setStatus(workspaceId, key, status, this.clock.now()))!;
  }

  /** Goals by id, to show optimizations with their goals' current names. */
  async goalsById(workspaceId: string): Promise<Map<number, Goal>> {
    return new Map((await this.store.goals.list(workspaceId)).map((g) => [g.id, g]));
  }

  /** Newest first; `after` is the cursor (ids below it); empty filters are ignored. */
  async listEvents(workspaceId: string, q: EventFilters & { after?: number; limit: number }) {
    await this.workspace(workspaceId);
    const query: EventQuery = { limit: q.limit, ...(q.after !== undefined ? { before: q.after } : {}) };
    if (q.type) query.type = q.type;
    if (q.name) query.name = q.name;
    if (q.dialect) query.source = q.dialect;
    // Identifiers as the pipeline stored them (an email or phone number in one is kept hashed).
    if (q.visitorId) query.visitorId = pseudonymiseId(q.visitorId);
    if (q.userDomain) query.userDomain = q.userDomain;
    if (q.userId) query.userId = pseudonymiseId(q.userId);
    return this.store.events.list(workspaceId, query);
  }
}
