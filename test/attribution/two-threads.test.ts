/**
 * A large run judges the later half of its conversions on a second thread, over the memory of
 * the first (attribution/judge-thread.ts). The property test in determinism.test.ts compares one
 * thread and two over random histories; this one makes sure every kind of change a run writes
 * (new outcomes, changed ones, withdrawn ones) falls in the second thread's half, and shows what
 * happens when that thread cannot judge.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { CanonicalEvent } from '../../src/core/index.js';
import { ActivityIndex } from '../../src/attribution/index.js';
import { Conversions } from '../../src/attribution/conversions.js';
import { judgeOnThread } from '../../src/attribution/judge-thread.js';
import type { OutcomeChange } from '../../src/store/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const MIN = 60_000;

describe('judging a run on two threads', () => {
  let t: TestApp;
  const base: Omit<CanonicalEvent, 'workspaceId' | 'type' | 'occurredAt' | 'receivedAt'> = {
    name: null, idempotencyKey: null, visitorId: null, sessionId: null, userDomain: null, userId: null, optimization: null,
    variation: null, value: null, currency: null, properties: null, userData: null, context: null, source: 'native',
  };

  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  async function workspace(ws: string): Promise<number> {
    await t.app.admin.createWorkspace({ id: ws });
    const goalId = (await t.store.goals.create(ws, 'signup', 'Signup', T0 - 24 * 60 * MIN)).id;
    await t.store.optimizations.create({
      workspaceId: ws, key: 'hero', name: 'Hero', variations: [{ key: 'a', name: 'A', weight: 1 }, { key: 'b', name: 'B', weight: 1 }],
      goalIds: [goalId], primaryGoalId: goalId, control: 'a', status: 'running', createdAt: T0 - 24 * 60 * MIN, updatedAt: T0 - 24 * 60 * MIN,
    });
    return goalId;
  }

  /** Plays the same story into workspace `ws`, each run judged with `judgeOnTwoThreadsFrom`; answers everything the runs left. */
  async function story(ws: string, judgeOnTwoThreadsFrom: number) {
    const goalId = await workspace(ws);
    const append = (events: Omit<CanonicalEvent, 'workspaceId'>[]) => t.store.events.append({ events: events.map((e) => ({ ...e, workspaceId: ws })), rejections: [] });
    const view = (n: number, at: number, variation: string) =>
      ({ ...base, type: 'view' as const, occurredAt: at, receivedAt: at, visitorId: `v${n}`, sessionId: `s${n}`, optimization: 'hero', variation });
    // Eight visitors who view, identify and convert by user id; visitor 6 and 7 convert twice more
    // by custom events a few minutes ahead of the clock (skew), which count while `signup` names the goal then.
    for (let n = 0; n < 8; n++) {
      const at = T0 - 100 * MIN + n * 5 * MIN;
      await append([
        view(n, at, n % 2 === 0 ? 'a' : 'b'),
        { ...base, type: 'identify', occurredAt: at, receivedAt: at, visitorId: `v${n}`, sessionId: `s${n}`, userDomain: 'crm', userId: `u${n}` },
        { ...base, type: 'conversion', name: 'signup', occurredAt: at + 10 * MIN, receivedAt: at + 10 * MIN, idempotencyKey: `order-${n}`, userDomain: 'crm', userId: `u${n}` },
      ]);
    }
    await append([6, 7].map((n) => ({ ...base, type: 'custom' as const, name: 'signup', occurredAt: T0 + 4 * MIN, receivedAt: T0, visitorId: `v${n}`, sessionId: `s${n}` })));
    t.clock.set(T0);
    const runs = [await t.app.runner.run(ws, { judgeOnTwoThreadsFrom })];
    // Then: the goal is renamed before the custom events' time (they are conversions no more), and
    // visitors 1 and 5 turn out to have viewed the other variation later in their session.
    await t.store.goals.rename(ws, goalId, 'registration', T0 + MIN);
    await append([1, 5].map((n) => view(n, T0 - 100 * MIN + n * 5 * MIN + 5 * MIN, n % 2 === 0 ? 'b' : 'a')));
    t.clock.set(T0 + 10 * MIN);
    runs.push(await t.app.runner.run(ws, { judgeOnTwoThreadsFrom }));
    const restatements: OutcomeChange[][] = [];
    for (const r of runs) {
      const changes: OutcomeChange[] = [];
      await t.store.attribution.run(ws, r.runId, (chunk) => changes.push(...chunk));
      restatements.push(changes);
    }
    const outcomes = [...(await t.store.attribution.outcomes(ws)).values()].map((o) => [o.eventId, o.outcome, o.reason, o.attributions, o.detail]);
    return {
      runs: runs.map((r) => ({ ...r, runId: 0, durationMs: 0 })), restatements, outcomes, quality: (await t.store.attribution.dataQuality(ws))?.figures,
    };
  }

  it('writes, rewrites and withdraws the outcomes of the second thread\'s half as one thread does', async () => {
    const one = await story('one', Number.POSITIVE_INFINITY);
    const two = await story('two', 1);
    // The story does what it says, in the later half too: both custom events withdrawn, visitor 5's outcome rewritten.
    assert.equal(one.runs[0]!.conversionsProcessed, 10);
    assert.equal(one.runs[1]!.conversionsProcessed, 8);
    const second = one.restatements[1]!;
    assert.equal(second.filter((c) => c.after === null).length, 2, 'two outcomes withdrawn');
    assert.ok(second.some((c) => c.before !== null && c.after !== null), 'outcomes rewritten');
    // Event ids are the same in both workspaces' stories but for an offset: compare them as told.
    const offset = (two.outcomes[0]![0] as number) - (one.outcomes[0]![0] as number);
    const shift = <T extends { eventId: number }>(c: T) => ({ ...c, eventId: c.eventId - offset });
    assert.deepEqual(two.restatements.map((r) => r.map(shift)), one.restatements);
    assert.deepEqual(two.outcomes.map(([id, ...rest]) => [(id as number) - offset, ...rest]), one.outcomes);
    assert.deepEqual(two.runs, one.runs);
    assert.deepEqual(two.quality, one.quality);
  });

  it('fails clearly when the second thread cannot judge (a run then fails as a whole, committing nothing)', async () => {
    const activity = new ActivityIndex({ timeoutMs: 30 * MIN, maxMs: 24 * 60 * MIN });
    activity.add({ id: 1, type: 'view', occurredAt: T0, receivedAt: T0, visitorId: 'v1', sessionId: 's1', userDomain: null, userId: null, optimization: 'hero', variation: 'a' });
    activity.build();
    const conversions = new Conversions(activity);
    const ctx = { goalsByName: new Map(), optimizations: [], activity };
    // Conversions [0, 3) of none: the thread finds no conversions where it was told to look.
    const thread = judgeOnThread(ctx, { timeoutMs: 30 * MIN, maxMs: 24 * 60 * MIN }, conversions, 0, 3, { ids: new Float64Array(0), prints: new Float64Array(0) });
    await assert.rejects(thread.done, /^Error: Judging conversions 0-3 on a second thread failed: There are no conversions 0-3 to judge \(0 in all\)\.$/);
  });
});
