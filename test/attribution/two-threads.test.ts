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
import { ActivityIndex, loadWorkspace, type RunOptions } from '../../src/attribution/index.js';
import { judgeChunks, judgeRange, mergeChunks } from '../../src/attribution/judge-range.js';
import { Conversions } from '../../src/attribution/conversions.js';
import { ChunkCounters, judgeOnThread } from '../../src/attribution/judge-thread.js';
import type { OutcomeChange, RunWrites } from '../../src/store/index.js';
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

  /** Plays the same story into workspace `ws`, each run judged as `twoThreads` says; answers everything the runs left. */
  async function story(ws: string, twoThreads: RunOptions['twoThreads']) {
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
    const runs = [await t.app.runner.run(ws, { twoThreads })];
    // Then: the goal is renamed before the custom events' time (they are conversions no more), and
    // visitors 1 and 5 turn out to have viewed the other variation later in their session.
    await t.store.goals.rename(ws, goalId, 'registration', T0 + MIN);
    await append([1, 5].map((n) => view(n, T0 - 100 * MIN + n * 5 * MIN + 5 * MIN, n % 2 === 0 ? 'b' : 'a')));
    t.clock.set(T0 + 10 * MIN);
    runs.push(await t.app.runner.run(ws, { twoThreads }));
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
    const one = await story('one', { from: Number.POSITIVE_INFINITY });
    // Chunks of 4: the last chunk, the second thread's, holds the second run's rewrite of visitor 5 and both withdrawals.
    const two = await story('two', { from: 1, chunk: 4 });
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

  it('puts together chunks claimed in any order by two threads as one thread judging every conversion finds them', async () => {
    await story('one', { from: Number.POSITIVE_INFINITY });
    const loaded = await loadWorkspace(t.store, 'one', t.clock.now());
    const total = loaded.conversions.length;
    assert.equal(total, 8);
    const ids = Array.from({ length: total }, (_, i) => loaded.conversions.idAt(i));
    const once = judgeRange(loaded.ctx, loaded.conversions, 0, total, { ids: new Float64Array(0), prints: new Float64Array(0) });
    const print = (id: number) => once.writes.fingerprint(ids.indexOf(id));
    // Stored outcomes: one before the first conversion, unchanged ones, changed ones, one between conversions, one after the last.
    const stored: [number, number][] = [[ids[0]! - 1, 1], [ids[0]!, print(ids[0]!)], [ids[1]!, 2], [ids[2]! + 1, 3], [ids[3]!, print(ids[3]!)],
      [ids[5]!, 4], [ids[6]!, print(ids[6]!)], [ids[7]! + 1, 5]];
    const before = { ids: Float64Array.from(stored, ([id]) => id), prints: Float64Array.from(stored, ([, p]) => p) };
    const one = judgeRange(loaded.ctx, loaded.conversions, 0, total, before);
    assert.deepEqual(one.withdrawn, [ids[0]! - 1, ids[2]! + 1, ids[7]! + 1]);
    assert.deepEqual(one.rewritten, [ids[1]!, ids[5]!]);
    // Chunks of 2 (four chunks): the first thread claims chunks 0 and 2, the second chunk 1, then judges the last.
    const claims = (list: number[]) => () => list.shift() ?? 99;
    const first = judgeChunks(loaded.ctx, loaded.conversions, before, 2, claims([0, 2]), () => {}, false);
    const second = judgeChunks(loaded.ctx, loaded.conversions, before, 2, claims([1]), () => {}, true);
    const merged = mergeChunks([first, second]);
    const written = (w: RunWrites) => Array.from({ length: w.length }, (_, i) => [w.eventId(i), w.fingerprint(i), w.reason(i), w.attributionsText(i)]);
    assert.deepEqual(written(merged.writes), written(one.writes));
    assert.deepEqual([merged.rewritten, merged.withdrawn, merged.attributed], [one.rewritten, one.withdrawn, one.attributed]);
    assert.deepEqual(merged.quality.figures(), one.quality.figures());
  });

  it('fails clearly when the second thread cannot judge (a run then fails as a whole, committing nothing)', async () => {
    const rules = { timeoutMs: 30 * MIN, maxMs: 24 * 60 * MIN };
    const activity = new ActivityIndex(rules);
    activity.add({ id: 1, type: 'view', occurredAt: T0, receivedAt: T0, visitorId: 'v1', sessionId: 's1', userDomain: null, userId: null, optimization: 'hero', variation: 'a' });
    const parts = activity.parts();
    // Where the index's activity ends (actStart's last value, in the memory the threads share), told wrong.
    const actStart = parts[5] as Int32Array;
    actStart[actStart.length - 1] = 99;
    const thread = judgeOnThread({ goalsByName: new Map(), optimizations: [], activity }, rules, new Conversions(activity), { ids: new Float64Array(0), prints: new Float64Array(0) }, 4, new ChunkCounters());
    await assert.rejects(thread.done, /^Error: Judging conversions on a second thread failed: Activity snapshot: the columns do not fit the strings\.$/);
  });
});
