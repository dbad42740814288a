/**
 * A run leaves a snapshot of the events it loaded, and the next run starts from it and reads only
 * the events stored since (attribution/snapshot.ts). The property tests in determinism.test.ts
 * show that any sequence of such runs ends where one run over every event does; these show that a
 * snapshot is not used where it would be wrong, and that losing it changes nothing but speed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AttributionRunner, AttributionScheduler, INDEX_RETRY_MS, indexOnce, workerIndexer } from '../../src/attribution/index.js';
import type { CanonicalEvent } from '../../src/core/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const MIN = 60_000;
const WS = 'snap';

describe('attribution runs starting from the last run\'s snapshot', () => {
  let t: TestApp;
  let goalId: number;
  const folder = () => path.join(t.dir, 'attribution-snapshots');
  const snapshotFile = () => {
    const files = fs.existsSync(folder()) ? fs.readdirSync(folder()) : [];
    assert.equal(files.length, 1, `one snapshot file: ${files.join(', ')}`);
    return path.join(folder(), files[0]!);
  };
  const base: Omit<CanonicalEvent, 'type' | 'occurredAt' | 'receivedAt'> = {
    workspaceId: WS, name: null, idempotencyKey: null, visitorId: null, sessionId: null, userDomain: null, userId: null, optimization: null,
    variation: null, value: null, currency: null, properties: null, userData: null, context: null, source: 'native',
  };
  /** A visitor who views a variation of hero, then converts (server-side, by user id) `after` ms later, received at `received`. */
  const visit = (n: number, at: number, after: number, received = at + after): CanonicalEvent[] => [
    { ...base, type: 'view', occurredAt: at, receivedAt: at, visitorId: `v${n}`, optimization: 'hero', variation: n % 2 === 0 ? 'a' : 'b' },
    { ...base, type: 'identify', occurredAt: at, receivedAt: at, visitorId: `v${n}`, userDomain: 'crm', userId: `u${n}` },
    { ...base, type: 'conversion', name: 'signup', occurredAt: at + after, receivedAt: received, idempotencyKey: `order-${n}`, userDomain: 'crm', userId: `u${n}`, value: n },
  ];
  const append = (events: CanonicalEvent[]) => t.store.events.append({ events, rejections: [] });
  const run = async (until?: number) => {
    const summary = await t.app.runner.run(WS, until === undefined ? {} : { until });
    await t.store.attribution.snapshots!.settle();
    return summary;
  };
  const outcomes = async () => [...(await t.store.attribution.outcomes(WS)).values()].map((o) => [o.eventId, o.outcome, o.reason, o.attributions]);

  beforeEach(async () => {
    t = await testApp();
    await t.app.admin.createWorkspace({ id: WS });
    goalId = (await t.store.goals.create(WS, 'signup', 'Signup', T0 - 24 * 60 * MIN)).id;
    await t.store.optimizations.create({
      workspaceId: WS, key: 'hero', name: 'Hero', variations: [{ key: 'a', name: 'A', weight: 1 }, { key: 'b', name: 'B', weight: 1 }],
      goalIds: [goalId], primaryGoalId: goalId, control: 'a', status: 'running', createdAt: T0 - 24 * 60 * MIN, updatedAt: T0 - 24 * 60 * MIN,
    });
  });
  afterEach(() => t.close());

  it('reads only what came since the last run, and ends where reading every event ends; without the snapshot, the same', async () => {
    for (let n = 0; n < 6; n++) await append(visit(n, T0 - 120 * MIN + n * MIN, 5 * MIN));
    t.clock.set(T0);
    const first = await run();
    assert.equal(first.conversionsProcessed, 6);
    const written = fs.statSync(snapshotFile()).mtimeMs;
    // A new visitor, a late conversion of an old one (in a session long over: not attributed), a repeat view.
    await append([...visit(6, T0 + MIN, 2 * MIN), { ...visit(0, 0, 0)[2]!, idempotencyKey: 'order-late', occurredAt: T0 + 5 * MIN, receivedAt: T0 + 5 * MIN }]);
    t.clock.set(T0 + 10 * MIN);
    const second = await run();
    assert.equal(second.conversionsProcessed, 8);
    assert.equal(second.changed, 2, 'only the two new conversions are new outcomes');
    const resumed = await outcomes();
    assert.ok(fs.statSync(snapshotFile()).mtimeMs >= written);

    fs.rmSync(folder(), { recursive: true });
    const again = await run();
    assert.equal(again.changed, 0, 'reading every event judges every conversion as the run from the snapshot did');
    assert.deepEqual(await outcomes(), resumed);
  });

  it('judges alike when every event is read on a thread of its own (a large workspace) and when read here', async () => {
    const threaded = await testApp({}, { threadedReadFrom: 0 });
    try {
      await threaded.app.admin.createWorkspace({ id: WS });
      const goal = (await threaded.store.goals.create(WS, 'signup', 'Signup', T0 - 24 * 60 * MIN)).id;
      assert.equal(goal, goalId);
      await threaded.store.optimizations.create({
        workspaceId: WS, key: 'hero', name: 'Hero', variations: [{ key: 'a', name: 'A', weight: 1 }, { key: 'b', name: 'B', weight: 1 }],
        goalIds: [goal], primaryGoalId: goal, control: 'a', status: 'running', createdAt: T0 - 24 * 60 * MIN, updatedAt: T0 - 24 * 60 * MIN,
      });
      // Several appends (segments), a visitor on two devices, a conversion by visitor id, one outside any session, one received too late.
      for (let n = 0; n < 8; n++) {
        const events = [...visit(n, T0 - 200 * MIN + n * 7 * MIN, (n % 3) * 20 * MIN, n === 5 ? T0 + 5 * MIN : undefined),
          { ...base, type: 'identify' as const, occurredAt: T0 - 30 * MIN, receivedAt: T0 - 30 * MIN, visitorId: `phone${n % 2}`, userDomain: 'crm', userId: `u${n}` },
          { ...base, type: 'conversion' as const, name: 'signup', occurredAt: T0 - 10 * MIN, receivedAt: T0 - 10 * MIN, idempotencyKey: `web-${n}`, visitorId: `v${n}` }];
        await append(events);
        await threaded.store.events.append({ events, rejections: [] });
      }
      t.clock.set(T0);
      threaded.clock.set(T0);
      const here = await run();
      const there = await threaded.app.runner.run(WS);
      assert.deepEqual({ ...there, durationMs: 0 }, { ...here, durationMs: 0 });
      assert.equal(here.conversionsProcessed, 15, 'the conversion received after the run\'s instant waits for the next run');
      assert.deepEqual([...(await threaded.store.attribution.outcomes(WS)).values()].map((o) => [o.eventId, o.outcome, o.reason, o.attributions, o.detail]),
        [...(await t.store.attribution.outcomes(WS)).values()].map((o) => [o.eventId, o.outcome, o.reason, o.attributions, o.detail]));
    } finally {
      await threaded.close();
    }
  });

  it('does not start from a snapshot taken at a later instant than the run asks for', async () => {
    for (let n = 0; n < 4; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN, T0 - 50 * MIN + n * 10 * MIN));
    t.clock.set(T0 + 60 * MIN);
    assert.equal((await run()).conversionsProcessed, 4);
    // As of T0 - 25 min, only the conversions received by then count; the snapshot holds all four.
    assert.equal((await run(T0 - 25 * MIN)).conversionsProcessed, 3);
  });

  it('does not start from a snapshot taken under other goal names: an event\'s name may mean another goal now', async () => {
    // A custom event named as the goal, a few minutes in the future (clock skew), and the goal renamed before that instant.
    await append([...visit(0, T0 - 30 * MIN, MIN), { ...base, type: 'custom', name: 'signup', occurredAt: T0 + 4 * MIN, receivedAt: T0, visitorId: 'v0' }]);
    t.clock.set(T0);
    assert.equal((await run()).conversionsProcessed, 2);
    await t.store.goals.rename(WS, goalId, 'registration', T0 + MIN);
    const after = await run();
    assert.equal(after.conversionsProcessed, 1, 'the custom event no longer names a goal at its time');
  });

  it('stands when its snapshot cannot be written, and says why on stderr', async () => {
    for (let n = 0; n < 3; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN));
    fs.writeFileSync(folder(), 'not a folder'); // where the snapshots would go
    const warnings: Error[] = [];
    const listen = (w: Error) => warnings.push(w);
    process.on('warning', listen);
    try {
      t.clock.set(T0);
      const summary = await run();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      assert.equal(summary.conversionsProcessed, 3);
      assert.equal((await outcomes()).length, 3, 'the outcomes are committed');
      const warning = warnings.find((w) => (w as Error & { code?: string }).code === 'CLOSELOOP_SNAPSHOT');
      assert.match(warning?.message ?? '', /attribution snapshot of workspace "snap" was not written \(.+\); the next run reads every event/);
      assert.equal((await run()).changed, 0, 'the next run reads every event and agrees');
    } finally {
      process.off('warning', listen);
    }
  });

  describe('indexed between runs by the scheduler (attribution/indexer.ts)', () => {
    /** A scheduler that indexes once 10 events and half the snapshot's count arrived since it (the service's: 100,000 and a tenth). */
    const scheduler = () => new AttributionScheduler(t.store, t.app.runner, t.clock, (_ws, err) => { throw err; }, { minEvents: 10, share: 0.5 });
    const indexed = async (s: AttributionScheduler) => (await s.tick()).filter((r) => r.mode === 'index');

    it('indexes a workspace whose events grew enough since its snapshot; the next run starts from it and judges as reading every event does', async () => {
      for (let n = 0; n < 6; n++) await append(visit(n, T0 - 120 * MIN + n * MIN, 5 * MIN)); // 18 events
      t.clock.set(T0);
      const s = scheduler();
      assert.deepEqual(await s.tick(), [], 'the first tick only learns the schedule');
      assert.deepEqual(await indexed(s), [{ workspaceId: WS, mode: 'index', ok: true }]);
      assert.ok(fs.existsSync(snapshotFile()));
      assert.deepEqual(await t.store.attribution.runs(WS, 10), [], 'indexing is no run: nothing judged');
      assert.deepEqual(await outcomes(), []);
      assert.deepEqual(await indexed(s), [], 'nothing new since');

      await append(visit(6, T0 + MIN, 2 * MIN)); // 3 events: fewer than 10
      t.clock.set(T0 + 5 * MIN);
      assert.deepEqual(await indexed(s), []);
      for (let n = 7; n < 10; n++) await append(visit(n, T0 + n * MIN, 2 * MIN)); // 12 events since: 10 and more, half of 18 and more
      t.clock.set(T0 + 20 * MIN);
      assert.deepEqual(await indexed(s), [{ workspaceId: WS, mode: 'index', ok: true }]);
      const index = fs.readFileSync(snapshotFile());

      t.clock.set(T0 + 30 * MIN);
      const first = await run();
      assert.equal(first.conversionsProcessed, 10);
      assert.equal(first.changed, 10);
      // A run that read every event would write a snapshot of its own (another token); one that started from the index has nothing to add.
      assert.ok(fs.readFileSync(snapshotFile()).equals(index), 'the run started from the index');
      const judged = await outcomes();
      fs.rmSync(folder(), { recursive: true });
      const again = await run();
      assert.equal(again.changed, 0, 'reading every event judges every conversion as the run from the index did');
      assert.deepEqual(await outcomes(), judged);
    });

    it('leaves a workspace alone while a run (here, another one\'s lease) holds it, and indexes it once free', async () => {
      for (let n = 0; n < 6; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN));
      t.clock.set(T0);
      const s = scheduler();
      await s.tick();
      const other = `${process.pid}:another run`; // a live holder (one whose process is gone is taken over)
      assert.ok(await t.store.attribution.acquireRunLease(WS, other, T0, T0 + 60 * MIN));
      assert.deepEqual(await indexed(s), []);
      assert.equal(fs.existsSync(folder()) ? fs.readdirSync(folder()).length : 0, 0, 'no snapshot written');
      await t.store.attribution.releaseRunLease(WS, other);
      assert.deepEqual(await indexed(s), [{ workspaceId: WS, mode: 'index', ok: true }]);
    });

    it('indexes again, with nothing new, once the goals were renamed: no run can start from a snapshot taken under other names', async () => {
      for (let n = 0; n < 6; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN));
      t.clock.set(T0);
      const s = scheduler();
      await s.tick();
      assert.equal((await indexed(s)).length, 1);
      assert.equal((await indexed(s)).length, 0);
      await t.store.goals.rename(WS, goalId, 'registration', T0 + MIN);
      assert.equal((await indexed(s)).length, 1);
      assert.equal((await indexed(s)).length, 0);
    });

    it('indexes every event stored, one received after its clock\'s now included; a run from a later instant starts from it, one from before does not', async () => {
      // Ingestion racing the indexing: visit 5's conversion was received at T0 + 10 min, the indexing's clock says T0.
      for (let n = 0; n < 6; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN, n === 5 ? T0 + 10 * MIN : T0 - 50 * MIN));
      t.clock.set(T0);
      const s = scheduler();
      await s.tick();
      assert.deepEqual(await indexed(s), [{ workspaceId: WS, mode: 'index', ok: true }], 'written although an event came after its now');
      const index = fs.readFileSync(snapshotFile());
      // As of T0 + 5 min: not from the index (it holds a conversion received later), every event read, that one left out.
      assert.equal((await run(T0 + 5 * MIN)).conversionsProcessed, 5);
      const later = await run(T0 + 20 * MIN);
      assert.deepEqual([later.conversionsProcessed, later.changed], [6, 1]);
      // A run that read every event would write a snapshot of its own; one that started from the index has nothing to add.
      assert.ok(fs.readFileSync(snapshotFile()).equals(index), 'the later run started from the index');
      const judged = await outcomes();
      fs.rmSync(folder(), { recursive: true });
      assert.equal((await run(T0 + 30 * MIN)).changed, 0, 'reading every event judges as the run from the index did');
      assert.deepEqual(await outcomes(), judged);
    });

    it('leaves a workspace whose indexing failed alone for an hour, then tries again', async () => {
      for (let n = 0; n < 6; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN));
      fs.writeFileSync(folder(), 'not a folder'); // where the snapshots would go: every indexing fails
      t.clock.set(T0);
      const errors: unknown[] = [];
      const s = new AttributionScheduler(t.store, t.app.runner, t.clock, (_ws, err, mode) => errors.push([mode, (err as Error).message]), { minEvents: 10, share: 0.5 });
      await s.tick();
      assert.deepEqual(await indexed(s), [{ workspaceId: WS, mode: 'index', ok: false }]);
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as unknown[])[0], 'index');
      t.clock.set(T0 + INDEX_RETRY_MS - 1);
      assert.deepEqual(await indexed(s), [], 'not tried again within the hour');
      fs.rmSync(folder());
      t.clock.set(T0 + INDEX_RETRY_MS);
      assert.deepEqual(await indexed(s), [{ workspaceId: WS, mode: 'index', ok: true }]);
      assert.equal(errors.length, 1);
    });

    it('indexes on a thread of its own, as the service does, to the same snapshot a run then starts from', async () => {
      for (let n = 0; n < 6; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN));
      t.clock.set(T0);
      const runner = new AttributionRunner(t.store, t.clock, () => {}, undefined, workerIndexer(path.join(t.dir, 'closeloop.db')));
      const summary = await runner.index(WS);
      assert.equal(summary.indexed, true);
      assert.equal(summary.events, 18);
      const twice = await indexOnce(t.store, t.clock, WS);
      assert.deepEqual([twice.indexed, twice.events], [false, 0], 'indexed already: nothing to write');
      const index = fs.readFileSync(snapshotFile());
      assert.equal((await run()).changed, 6);
      assert.ok(fs.readFileSync(snapshotFile()).equals(index), 'the run started from the worker\'s index');
    });
  });

  it('reads every event when the snapshot cannot be read, and says nothing different', async () => {
    for (let n = 0; n < 4; n++) await append(visit(n, T0 - 60 * MIN, 5 * MIN));
    t.clock.set(T0);
    await run();
    const before = await outcomes();
    const file = snapshotFile();
    fs.truncateSync(file, fs.statSync(file).size - 8); // cut short: its last array runs past the end
    const again = await run();
    assert.equal(again.conversionsProcessed, 4);
    assert.equal(again.changed, 0);
    assert.deepEqual(await outcomes(), before);
  });
});
