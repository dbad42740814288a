import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nextCronRun } from '../../src/attribution/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const MIDNIGHT_AFTER_T0 = Date.UTC(2026, 0, 16, 0, 0, 0);

describe('attribution schedule', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  it('computes the next instant of a UTC cron expression, and null for one that is not', () => {
    assert.equal(nextCronRun('0 0 * * *', T0), MIDNIGHT_AFTER_T0);
    assert.equal(nextCronRun('*/15 * * * *', T0), T0 + 15 * 60_000);
    assert.equal(nextCronRun('not a cron', T0), null);
  });

  it('runs a full attribution at the next midnight UTC by default, and not before', async () => {
    await t.workspace('nightly');
    t.clock.set(T0);
    await t.app.scheduler.tick(); // first sight: plans the next run
    t.clock.set(MIDNIGHT_AFTER_T0 - 1);
    assert.deepEqual((await t.app.scheduler.tick()).filter((r) => r.workspaceId === 'nightly'), []);
    t.clock.set(MIDNIGHT_AFTER_T0);
    assert.deepEqual((await t.app.scheduler.tick()).filter((r) => r.workspaceId === 'nightly'), [{ workspaceId: 'nightly', mode: 'full', ok: true }]);
    const runs = (await t.admin('GET', '/admin/v1/workspaces/nightly/attribution/runs')).body.runs;
    assert.deepEqual(runs.map((r: { mode: string; until: number }) => [r.mode, r.until]), [['full', MIDNIGHT_AFTER_T0]]);
    t.clock.set(MIDNIGHT_AFTER_T0 + 60_000);
    assert.deepEqual((await t.app.scheduler.tick()).filter((r) => r.workspaceId === 'nightly'), []);
  });

  it('adds an incremental run every attributionIntervalSeconds when it is set', async () => {
    await t.workspace('often');
    t.clock.set(T0);
    assert.equal((await t.admin('PATCH', '/admin/v1/workspaces/often', { settings: { attributionIntervalSeconds: 60 } })).status, 200);
    await t.app.scheduler.tick();
    t.clock.set(T0 + 59_999);
    assert.deepEqual((await t.app.scheduler.tick()).filter((r) => r.workspaceId === 'often'), []);
    t.clock.set(T0 + 60_000);
    assert.deepEqual((await t.app.scheduler.tick()).filter((r) => r.workspaceId === 'often'), [{ workspaceId: 'often', mode: 'incremental', ok: true }]);
    t.clock.set(T0 + 120_000);
    assert.deepEqual((await t.app.scheduler.tick()).filter((r) => r.workspaceId === 'often'), [{ workspaceId: 'often', mode: 'incremental', ok: true }]);
  });

  it('refuses a schedule that is not a cron expression, naming the setting', async () => {
    await t.workspace('badcron');
    const res = await t.admin('PATCH', '/admin/v1/workspaces/badcron', { settings: { attributionSchedule: 'every night' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'field_invalid');
    assert.match(res.body.error.message, /^settings\.attributionSchedule "every night" is not a cron expression/);
  });
});
