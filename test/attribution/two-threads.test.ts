/**
 * A large run that starts from a snapshot judges its conversions on two threads, over the
 * snapshot's shared memory (attribution/judge-thread.ts). The property test in
 * determinism.test.ts compares runs on one thread and on two over random histories; these make
 * sure that every kind of change a run writes (new outcomes, changed ones, withdrawn ones) comes
 * out of either thread's chunks as one thread writes it, and show what happens when the second
 * thread cannot judge.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { CanonicalEvent } from '../../src/core/index.js';
import { ActivityIndex, loadWorkspace, type Loaded, type RunOptions } from '../../src/attribution/index.js';
import { Conversions } from '../../src/attribution/conversions.js';
import { judgeChunks, judgeRange, mergeChunks, sendable, type JudgedRange } from '../../src/attribution/judge-range.js';
import { ChunkCounters, judgeOnThread, judgeOnTwoThreads, shareable } from '../../src/attribution/judge-thread.js';
import { loadForRun } from '../../src/attribution/snapshot.js';
import { WorkspaceWords, type Fingerprints, type OutcomeChange, type RunWrites } from '../../src/store/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const MIN = 60_000;
const NONE: Fingerprints = { ids: new Float64Array(0), prints: new Float64Array(0) };

/** A copy of a loaded workspace in shared memory, as a run that starts from a snapshot has it. */
function inSharedMemory(loaded: Loaded): Loaded {
  const copy = <A extends Float64Array | Int32Array | Uint8Array>(a: A): A => {
    const out = new (a.constructor as new (b: SharedArrayBuffer) => A)(new SharedArrayBuffer(a.byteLength));
    out.set(a);
    return out;
  };
  const activity = ActivityIndex.fromParts(loaded.rules, loaded.ctx.activity.parts().map(copy));
  const { arrays, names } = loaded.conversions.parts();
  return { ...loaded, ctx: { ...loaded.ctx, activity }, conversions: Conversions.fromParts(activity, arrays.map(copy), names) };
}

/** What a judgement writes, as the store will read it back. */
function written(w: RunWrites): unknown[] {
  return Array.from({ length: w.length }, (_, i) => [w.eventId(i), w.fingerprint(i), w.reason(i), w.attributions(i)]);
}

function same(a: JudgedRange, b: JudgedRange): void {
  assert.deepEqual(written(a.writes), written(b.writes));
  assert.deepEqual([a.rewritten, a.withdrawn, a.attributed], [b.rewritten, b.withdrawn, b.attributed]);
  assert.deepEqual(a.quality.figures(), b.quality.figures());
}

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

  const append = (ws: string, events: Omit<CanonicalEvent, 'workspaceId'>[]) => t.store.events.append({ events: events.map((e) => ({ ...e, workspaceId: ws })), rejections: [] });
  const view = (n: number, at: number, variation: string) =>
    ({ ...base, type: 'view' as const, occurredAt: at, receivedAt: at, visitorId: `v${n}`, sessionId: `s${n}`, optimization: 'hero', variation });

  /** Ten visitors who view, identify and convert by user id; visitor 9 views a variation the optimization does not declare. */
  async function tenVisitors(ws: string): Promise<void> {
    for (let n = 0; n < 10; n++) {
      const at = T0 - 200 * MIN + n * 5 * MIN;
      await append(ws, [
        view(n, at, n === 9 ? 'undeclared' : n % 2 === 0 ? 'a' : 'b'),
        { ...base, type: 'identify', occurredAt: at, receivedAt: at, visitorId: `v${n}`, sessionId: `s${n}`, userDomain: 'crm', userId: `u${n}` },
        // Received n minutes late: data quality's lags differ from one chunk to the next.
        { ...base, type: 'conversion', name: 'signup', occurredAt: at + 10 * MIN, receivedAt: at + (10 + n) * MIN, idempotencyKey: `order-${n}`, userDomain: 'crm', userId: `u${n}`, source: 'optimize' },
      ]);
    }
  }

  /**
   * Plays the same story into workspace `ws`, each run judged as `twoThreads` says; answers
   * everything the runs left, and whether each run after the first started from a snapshot in
   * shared memory (what judging on two threads needs).
   */
  async function story(ws: string, twoThreads: RunOptions['twoThreads']) {
    await workspace(ws);
    await tenVisitors(ws);
    t.clock.set(T0 - 60 * MIN);
    const runs = [await t.app.runner.run(ws, { twoThreads })];
    const shared: boolean[] = [];
    const run = async (until: number) => {
      t.clock.set(until);
      const loaded = await loadForRun(t.store, ws, until, async () => null);
      shared.push(shareable(loaded.ctx.activity, loaded.conversions));
      runs.push(await t.app.runner.run(ws, { twoThreads }));
    };
    // Visitors 1 and 7 turn out to have viewed the other variation later in their session (their
    // outcomes change, one in the first chunks and one in the last); visitor 10 arrives and converts.
    await append(ws, [1, 7].map((n) => view(n, T0 - 200 * MIN + n * 5 * MIN + 5 * MIN, n % 2 === 0 ? 'b' : 'a')));
    await append(ws, [view(10, T0 - 50 * MIN, 'b'), { ...base, type: 'conversion', name: 'signup', occurredAt: T0 - 40 * MIN, receivedAt: T0 - 40 * MIN, idempotencyKey: 'order-10', visitorId: 'v10', source: 'optimize' }]);
    await run(T0);
    // A conversion that names no one, and a run with nothing new.
    await append(ws, [{ ...base, type: 'conversion', name: 'signup', occurredAt: T0 + MIN, receivedAt: T0 + MIN, idempotencyKey: 'order-11', userDomain: 'crm', userId: 'nobody', source: 'optimize' }]);
    await run(T0 + 10 * MIN);
    await run(T0 + 20 * MIN);
    const restatements: OutcomeChange[][] = [];
    for (const r of runs) {
      const changes: OutcomeChange[] = [];
      await t.store.attribution.run(ws, r.runId, (chunk) => changes.push(...chunk));
      restatements.push(changes);
    }
    const outcomes = [...(await t.store.attribution.outcomes(ws)).values()].map((o) => [o.eventId, o.outcome, o.reason, o.attributions, o.detail]);
    const results = (await t.admin('GET', `/admin/v1/workspaces/${ws}/optimizations/hero/results`)).body;
    return {
      runs: runs.map((r) => ({ ...r, runId: 0, durationMs: 0 })), restatements, outcomes, quality: (await t.store.attribution.dataQuality(ws))?.figures, results, shared,
    };
  }

  it('writes and rewrites the outcomes of a run that starts from a snapshot as one thread does', async () => {
    const one = await story('one', { from: Number.POSITIVE_INFINITY });
    // The last chunk kept for the second thread, which would otherwise start after the first has claimed them all.
    const two = await story('two', { from: 1, chunk: 2, keepLast: true });
    // Every run after the first started from its snapshot, in shared memory: the second ones were judged on two threads.
    assert.deepEqual(two.shared, [true, true, true]);
    // The story does what it says: outcomes rewritten, one new, then one more; then nothing.
    assert.deepEqual(one.runs.map((r) => [r.conversionsProcessed, r.changed]), [[10, 10], [11, 3], [12, 1], [12, 0]]);
    assert.ok(one.restatements[1]!.some((c) => c.before !== null && c.after !== null), 'outcomes rewritten');
    // The undeclared variation is attributed as any other.
    assert.ok(JSON.stringify(one.outcomes).includes('"undeclared"'));
    // Event ids are the same in both workspaces' stories but for an offset: compare them as told.
    const offset = (two.outcomes[0]![0] as number) - (one.outcomes[0]![0] as number);
    const shift = <T extends { eventId: number }>(c: T) => ({ ...c, eventId: c.eventId - offset });
    assert.deepEqual(two.restatements.map((r) => r.map(shift)), one.restatements);
    assert.deepEqual(two.outcomes.map(([id, ...rest]) => [(id as number) - offset, ...rest]), one.outcomes);
    assert.deepEqual(two.runs, one.runs);
    assert.deepEqual(two.quality, one.quality);
    assert.deepEqual(two.results, one.results);
  });

  it('puts together chunks claimed in any order by two threads as one thread judging every conversion finds them', async () => {
    await workspace('one');
    await tenVisitors('one');
    const loaded = await loadWorkspace(t.store, 'one', T0);
    const total = loaded.conversions.length;
    assert.equal(total, 10);
    const ids = Array.from({ length: total }, (_, i) => loaded.conversions.idAt(i));
    const words = () => new WorkspaceWords([], loaded.ctx.activity);
    const once = judgeRange(loaded.ctx, loaded.conversions, NONE, words());
    const print = (id: number) => once.writes.fingerprint(ids.indexOf(id));
    // Stored outcomes: one before the first conversion, unchanged ones, changed ones, one between conversions, one after the last.
    const stored: [number, number][] = [[ids[0]! - 1, 1], [ids[0]!, print(ids[0]!)], [ids[1]!, 2], [ids[2]! + 1, 3], [ids[3]!, print(ids[3]!)],
      [ids[5]!, 4], [ids[6]!, print(ids[6]!)], [ids[9]!, 5], [ids[9]! + 1, 6]];
    const before = { ids: Float64Array.from(stored, ([id]) => id), prints: Float64Array.from(stored, ([, p]) => p) };
    const one = judgeRange(loaded.ctx, loaded.conversions, before, words());
    assert.deepEqual(one.withdrawn, [ids[0]! - 1, ids[2]! + 1, ids[9]! + 1]);
    assert.deepEqual(one.rewritten, [ids[1]!, ids[5]!, ids[9]!]);
    // Chunks of 2 (five chunks): this thread claims chunks 0 and 2, the other chunks 1 and 3, then judges the last.
    const claims = (list: number[]) => () => list.shift() ?? 99;
    const mine = words();
    // The other thread numbers with a fixed copy of the words (none here: it writes every string as text).
    const theirs = new WorkspaceWords(mine.list(), loaded.ctx.activity, false);
    const first = judgeChunks(loaded.ctx, loaded.conversions, before, mine, { size: 2, claim: claims([0, 2]), judged: () => {}, share: 1, last: 'kept' });
    const second = judgeChunks(loaded.ctx, loaded.conversions, before, theirs, { size: 2, claim: claims([1, 3]), judged: () => {}, share: 1, last: 'judged' });
    assert.deepEqual(Array.from(second.chunks.filter((_, k) => k % 4 === 0)), [1, 3, 4]);
    same(mergeChunks(first, sendable(second)), one);
    // And the other way round: this thread's chunks after the other's.
    const third = judgeChunks(loaded.ctx, loaded.conversions, before, words(), { size: 2, claim: claims([3]), judged: () => {}, share: 1, last: 'kept' });
    const fourth = judgeChunks(loaded.ctx, loaded.conversions, before, new WorkspaceWords([], loaded.ctx.activity, false), { size: 2, claim: claims([0, 1, 2]), judged: () => {}, share: 1, last: 'judged' });
    same(mergeChunks(third, sendable(fourth)), one);
  });

  it('puts together any split of the chunks between two threads, with any stored outcomes, as one thread judging every conversion finds them', async () => {
    await workspace('one');
    await tenVisitors('one');
    const loaded = await loadWorkspace(t.store, 'one', T0);
    const ids = Array.from({ length: loaded.conversions.length }, (_, i) => loaded.conversions.idAt(i));
    const prints = judgeRange(loaded.ctx, loaded.conversions, NONE, new WorkspaceWords([], loaded.ctx.activity)).writes;
    // Per conversion: no stored outcome, the same one, or another; and stored outcomes of events that are no conversions (before, between, after).
    const storedArb = fc.tuple(fc.array(fc.constantFrom('none', 'same', 'other'), { minLength: 10, maxLength: 10 }), fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 4 }));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }), fc.boolean(), storedArb, async (size, ours, keep, [kinds, gaps]) => {
      const stored = new Map<number, number>();
      kinds.forEach((kind, i) => { if (kind !== 'none') stored.set(ids[i]!, kind === 'same' ? prints.fingerprint(i) : 7); });
      for (const g of gaps) stored.set(g === 0 ? ids[0]! - 1 : ids[g - 1]! + 1, 9);
      const sorted = [...stored].sort(([a], [b]) => a - b);
      const before = { ids: Float64Array.from(sorted, ([id]) => id), prints: Float64Array.from(sorted, ([, p]) => p) };
      const one = judgeRange(loaded.ctx, loaded.conversions, before, new WorkspaceWords([], loaded.ctx.activity));
      // Chunk k is this thread's when ours[k] says so; the last is the other's when kept for it.
      const chunks = Math.ceil(10 / size);
      const claims = (mine: boolean) => {
        const list = Array.from({ length: keep ? chunks - 1 : chunks }, (_, k) => k).filter((k) => ours[k] === mine);
        return () => list.shift() ?? chunks;
      };
      const words = new WorkspaceWords([], loaded.ctx.activity);
      const first = judgeChunks(loaded.ctx, loaded.conversions, before, words, { size, claim: claims(true), judged: () => {}, share: 1, last: keep ? 'kept' : 'claimed' });
      const second = judgeChunks(loaded.ctx, loaded.conversions, before, new WorkspaceWords(words.list(), loaded.ctx.activity, false), {
        size, claim: claims(false), judged: () => {}, share: 0.5, last: keep ? 'judged' : 'claimed',
      });
      same(mergeChunks(first, sendable(second)), one);
    }), { numRuns: 200 });
  });

  it('judges on a second thread over the same memory as on one, and judges again on one when that thread fails', async () => {
    await workspace('one');
    await tenVisitors('one');
    const loaded = inSharedMemory(await loadWorkspace(t.store, 'one', T0));
    assert.ok(shareable(loaded.ctx.activity, loaded.conversions));
    const one = judgeRange(loaded.ctx, loaded.conversions, NONE, new WorkspaceWords([], loaded.ctx.activity));
    const told: number[] = [];
    // The last chunk kept for the second thread: it starts after this one has claimed every other.
    const two = await judgeOnTwoThreads(loaded.ctx, loaded.rules, loaded.conversions, NONE, new WorkspaceWords([], loaded.ctx.activity), (n) => told.push(n), { chunk: 3, keepLast: true });
    same(two, one);
    // Not kept: this thread claims every chunk before the second starts, and stops it rather than wait for it.
    same(await judgeOnTwoThreads(loaded.ctx, loaded.rules, loaded.conversions, NONE, new WorkspaceWords([], loaded.ctx.activity), () => {}, { chunk: 3 }), one);
    // A second thread that claimed the first chunk before this one began (here, judging it at once) is waited for.
    const quick: typeof judgeOnThread = (ctx, _rules, conversions, before, words, chunk, counters) => {
      let claims = 0;
      const part = judgeChunks(ctx, conversions, before, new WorkspaceWords(words, ctx.activity, false), {
        size: chunk, claim: () => (claims++ === 0 ? counters.claim() : Number.MAX_SAFE_INTEGER), judged: () => {}, share: 1, last: 'claimed',
      });
      assert.deepEqual(Array.from(part.chunks.filter((_, k) => k % 4 === 0)), [0]);
      return { done: Promise.resolve(sendable(part)), stop: () => {} };
    };
    same(await judgeOnTwoThreads(loaded.ctx, loaded.rules, loaded.conversions, NONE, new WorkspaceWords([], loaded.ctx.activity), () => {}, { chunk: 3, start: quick }), one);
    assert.ok(told.length >= 1 && told.every((n, k) => n > (told[k - 1] ?? 0) && n <= 10), `progress told in order: ${told.join(', ')}`);
    const warnings: string[] = [];
    const warned = (w: Error) => warnings.push(w.message);
    process.on('warning', warned);
    try {
      const failing: typeof judgeOnThread = () => ({ done: Promise.reject(new Error('The thread judging conversions stopped (exit code 1) before it finished.')), stop: () => {} });
      const again = await judgeOnTwoThreads(loaded.ctx, loaded.rules, loaded.conversions, NONE, new WorkspaceWords([], loaded.ctx.activity), () => {}, { chunk: 3, keepLast: true, start: failing });
      same(again, one);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', warned);
    }
    assert.deepEqual(warnings, ['The thread judging conversions stopped (exit code 1) before it finished.; this run\'s conversions are judged again on one thread.']);
  });

  it('says clearly why a second thread could not judge', async () => {
    const rules = { timeoutMs: 30 * MIN, maxMs: 24 * 60 * MIN };
    const activity = new ActivityIndex(rules, true);
    activity.add({ id: 1, type: 'view', occurredAt: T0, receivedAt: T0, visitorId: 'v1', sessionId: 's1', userDomain: null, userId: null, optimization: 'hero', variation: 'a' });
    const parts = activity.parts();
    // Where the index's activity ends (actStart's last value, in the memory the threads share), told wrong.
    const actStart = parts[5] as Int32Array;
    actStart[actStart.length - 1] = 99;
    const thread = judgeOnThread({ goalsByName: new Map(), optimizations: [], activity }, rules, new Conversions(activity), NONE, [], 4, new ChunkCounters(), true);
    await assert.rejects(thread.done, /^Error: Judging conversions on a second thread failed: Activity snapshot: the columns do not fit the strings\.$/);
  });
});
