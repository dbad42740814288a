import { effectiveSettings } from '../config/index.js';
import type { EventType } from '../core/index.js';
import type { ColumnsRead, Store } from '../store/index.js';
import { ActivityIndex } from './activity.js';
import { Conversions } from './conversions.js';
import type { EngineContext } from './engine.js';
import { goalAt, indexGoalsByName } from './goals.js';
import type { SessionRules } from './sessions.js';

/** Everything a run reads, loaded once: the engine's context plus the conversions to judge. */
export interface Loaded {
  ctx: EngineContext;
  rules: SessionRules;
  conversions: Conversions;
}

/** What a run knows of a workspace besides its events: session rules, goals and optimizations. */
export interface WorkspaceRules {
  rules: SessionRules;
  goalsByName: EngineContext['goalsByName'];
  optimizations: EngineContext['optimizations'];
  /** Server-side conversions, and browser custom events named as a goal was called at the time. */
  isConversion: (type: EventType, name: string, occurredAt: number) => boolean;
  /** The goals' names over time, as a string: equal strings, equal isConversion. */
  goalsKey: string;
}

export async function workspaceRules(store: Store, workspaceId: string): Promise<WorkspaceRules> {
  const ws = await store.workspaces.get(workspaceId);
  if (ws === null) throw new Error(`Workspace "${workspaceId}" does not exist.`);
  const settings = effectiveSettings(ws.settings);
  const rules: SessionRules = { timeoutMs: settings.sessionTimeoutMinutes * 60_000, maxMs: settings.sessionMaxHours * 3_600_000 };
  const goals = await store.goals.list(workspaceId);
  const goalsByName = indexGoalsByName(goals);
  const optimizations = (await store.optimizations.list(workspaceId))
    .map((o) => ({ key: o.key, goalIds: o.goalIds, variations: o.variations.map((v) => v.key) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const isConversion = (type: EventType, name: string, occurredAt: number) =>
    type === 'conversion' || (type === 'custom' && 'goal' in goalAt(goalsByName, name, occurredAt));
  const goalsKey = JSON.stringify(goals.map((g) => [g.id, g.history.map((h) => [h.apiName, h.validFrom, h.validTo])]));
  return { rules, goalsByName, optimizations, isConversion, goalsKey };
}

/**
 * Adds a workspace's events received up to `until`, with ids above `after`, to an activity index
 * and its conversions, then builds the index; answers what readColumns read, how many events, and
 * the latest instant one of them was received (-Infinity: none).
 */
export async function readEvents(
  store: Store, workspaceId: string, until: number, into: { activity: ActivityIndex; conversions: Conversions; isConversion: WorkspaceRules['isConversion'] }, after = 0,
): Promise<ColumnsRead & { events: number; maxReceived: number }> {
  const { activity, conversions, isConversion } = into;
  let events = 0;
  let sized = false;
  let maxReceived = Number.NEGATIVE_INFINITY;
  const received = (chunk: { n: number; receivedAt: Float64Array }) => {
    for (let i = 0; i < chunk.n; i++) if (chunk.receivedAt[i]! > maxReceived) maxReceived = chunk.receivedAt[i]!;
  };
  if (after === 0 && activity.isEmpty()) {
    // Every event, into an empty index: the store numbers the ids as it reads (on a thread of its own, for a large workspace).
    const { strings, ...read } = await store.attribution.readNumberedColumns(workspaceId, until, (chunk, numbers, total) => {
      if (!sized) {
        activity.reserve(total, true);
        conversions.reserve(total);
      }
      sized = true;
      events += chunk.n;
      received(chunk);
      conversions.addColumns(chunk, activity.addColumns(chunk, numbers), isConversion);
    });
    activity.adoptStrings(strings);
    activity.build();
    return { ...read, events, maxReceived };
  }
  const read = await store.attribution.readColumns(workspaceId, until, (chunk, total) => {
    if (!sized) activity.reserve(total);
    sized = true;
    events += chunk.n;
    received(chunk);
    conversions.addColumns(chunk, activity.addColumns(chunk), isConversion);
  }, after);
  activity.build();
  return { ...read, events, maxReceived };
}

/** Reads a workspace's goals, optimizations and events (received up to `until`) into the engine's structures. */
export async function loadWorkspace(store: Store, workspaceId: string, until: number): Promise<Loaded> {
  const { rules, goalsByName, optimizations, isConversion } = await workspaceRules(store, workspaceId);
  const activity = new ActivityIndex(rules);
  const conversions = new Conversions(activity);
  await readEvents(store, workspaceId, until, { activity, conversions, isConversion });
  return { ctx: { goalsByName, optimizations, activity }, rules, conversions };
}

