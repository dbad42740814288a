import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, startRealServer, type RealServer } from '../helpers/server.js';

const TOKEN = 'cl_admin_e2e_attribution_kill_test_token_0123';
const WS = 'killtest';

/**
 * Writes a history straight into the store (the pipeline is tested elsewhere; this needs enough
 * data for a run to last seconds): per visitor a view and an identify, and a conversion 5 min later.
 */
function seed(dataDir: string, from: number, to: number, t0: number): void {
  const db = new Database(path.join(dataDir, 'closeloop.db'));
  db.pragma('busy_timeout = 5000');
  const ins = db.prepare(`INSERT INTO events (workspace_id, type, name, occurred_at, received_at, idempotency_key, visitor_id, session_id,
    user_domain, user_id, optimization, variation, source) VALUES ('${WS}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (let v = from; v < to; v++) {
      const t = t0 + (v % 1000) * 1000;
      for (let i = 0; i < 8; i++) ins.run('view', null, t + i, t + i, null, `v${v}`, `s${v}`, null, null, 'hero', v % 2 === 0 ? 'bold' : 'control', 'native');
      ins.run('identify', null, t, t, null, `v${v}`, `s${v}`, 'crm', `u${v}`, null, null, 'native');
      ins.run('conversion', 'signup', t + 300_000, t + 300_000, `order-${v}`, null, null, 'crm', `u${v}`, null, null, 'optimize');
    }
  })();
  db.close();
}

describe('an attribution run killed half-way (real process)', () => {
  let server: RealServer;
  let dataDir: string;
  const t0 = Date.now() - 3_600_000;
  const admin = (method: string, url: string) =>
    fetch(`${server.url}/admin/v1/workspaces/${WS}${url}`, { method, headers: { authorization: `Bearer ${TOKEN}` } })
      .then(async (r) => ({ status: r.status, body: await r.json() as any }));

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-e2e-kill-test-'));
    assert.equal((await runCli(['init', '--workspace', WS, '--data', dataDir, '--json'])).code, 0);
    // The goal must exist before the conversions happen (rule 1): create it with a clock set back.
    assert.equal((await runCli(['goals', 'create', 'signup', '--data', dataDir], { CLOSELOOP_NOW: String(t0 - 60_000) })).code, 0);
    assert.equal((await runCli(['optimizations', 'create', 'hero', '--variations', 'control,bold', '--goals', 'signup', '--data', dataDir])).code, 0);
    seed(dataDir, 0, 40_000, t0);
    server = await startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: TOKEN } });
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves the previous outcomes whole, and the next run completes them', async () => {
    const first = await admin('POST', '/attribution/run');
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.conversionsProcessed, first.body.attributed], [40_000, 40_000]);

    seed(dataDir, 40_000, 80_000, t0);
    const started = performance.now();
    const killed = admin('POST', '/attribution/run').catch(() => 'connection lost');
    // The second run reads twice the data the first did; kill the process well before it can finish.
    await new Promise((resolve) => setTimeout(resolve, Math.min(300, first.body.durationMs / 4)));
    await server.kill();
    assert.equal(await killed, 'connection lost', `the run finished in ${Math.round(performance.now() - started)} ms, before the kill: seed more data`);

    server = await startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: TOKEN } });
    const runs = (await admin('GET', '/attribution/runs')).body.runs as { id: number }[];
    assert.deepEqual(runs.map((r) => r.id), [first.body.runId]);
    assert.equal((await admin('GET', '/conversions/order-1')).body.outcome, 'attributed');
    assert.equal((await admin('GET', '/conversions/order-50000')).body.outcome, 'pending');

    const next = await admin('POST', '/attribution/run');
    assert.deepEqual([next.body.conversionsProcessed, next.body.attributed, next.body.newlyAttributed, next.body.changed], [80_000, 80_000, 40_000, 40_000]);
    assert.equal((await admin('GET', '/conversions/order-50000')).body.outcome, 'attributed');
  });
});
