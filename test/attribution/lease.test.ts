import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { T0, testApp, type TestApp } from '../helpers/app.js';

describe('one attribution run at a time per workspace, across processes', () => {
  let t: TestApp;
  const live = (name: string) => `${process.pid}:${name}`;
  before(async () => {
    t = await testApp();
    await t.workspace('lease');
  });
  after(async () => { await t.close(); });

  it('gives the lease to one holder at a time until it is released or expires', async () => {
    const leases = t.store.attribution;
    assert.equal(await leases.acquireRunLease('lease', live('a'), T0, T0 + 60_000), true);
    assert.equal(await leases.acquireRunLease('lease', live('b'), T0, T0 + 60_000), false);
    assert.equal(await leases.acquireRunLease('other-workspace', live('b'), T0, T0 + 60_000), true);
    assert.equal(await leases.acquireRunLease('lease', live('b'), T0 + 60_000, T0 + 120_000), true, 'an expired lease is taken over');
    await leases.releaseRunLease('lease', live('a')); // not a's any more: changes nothing
    assert.equal(await leases.acquireRunLease('lease', live('c'), T0 + 60_001, T0 + 120_000), false);
    await leases.releaseRunLease('lease', live('b'));
    assert.equal(await leases.acquireRunLease('lease', live('c'), T0 + 60_001, T0 + 120_000), true);
    await leases.releaseRunLease('lease', live('c'));
    await leases.releaseRunLease('other-workspace', live('b'));
  });

  it('takes over a lease whose holder process is gone (a run killed with its process)', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    assert.equal(await t.store.attribution.acquireRunLease('lease', `${dead}:killed`, T0, T0 + 3_600_000), true);
    assert.equal(await t.store.attribution.acquireRunLease('lease', live('next'), T0, T0 + 60_000), true);
    await t.store.attribution.releaseRunLease('lease', live('next'));
  });

  it('refuses a run while another live process holds the lease, with 409 run_in_progress', async () => {
    assert.equal(await t.store.attribution.acquireRunLease('lease', live('cli'), t.clock.now(), t.clock.now() + 60_000), true);
    const res = await t.admin('POST', '/admin/v1/workspaces/lease/attribution/run');
    assert.deepEqual([res.status, res.body.error.code], [409, 'run_in_progress']);
    assert.match(res.body.error.message, /^An attribution run of workspace "lease" is already in progress/);
    await t.store.attribution.releaseRunLease('lease', live('cli'));
    assert.equal((await t.admin('POST', '/admin/v1/workspaces/lease/attribution/run')).status, 200);
  });
});
