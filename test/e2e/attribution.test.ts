import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startRealServer, type RealServer } from '../helpers/server.js';

const TOKEN = 'cl_admin_e2e_attribution_test_token_0123456789';

describe('attribution in the service (real process, run on a worker thread)', () => {
  let server: RealServer;
  let key: string;
  let dataDir: string;
  const admin = (method: string, url: string, body?: unknown) =>
    fetch(`${server.url}/admin/v1/workspaces/123456789${url}`, {
      method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (r) => ({ status: r.status, body: await r.json() as any }));

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-e2e-attr-test-'));
    const init = await runCli(['init', '--workspace', '123456789', '--data', dataDir, '--json']);
    assert.equal(init.code, 0, init.stderr);
    key = (JSON.parse(init.stdout) as { serverKey: { key: string } }).serverKey.key;
    assert.equal((await runCli(['goals', 'create', 'application-accepted', '--data', dataDir])).code, 0);
    assert.equal((await runCli(['optimizations', 'create', 'hero', '--variations', 'control,bold', '--goals', 'application-accepted', '--data', dataDir])).code, 0);
    server = await startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: TOKEN } });
  });
  after(async () => { await server.stop(); });

  it('attributes an Optimize conversion to the variation the user viewed, and explains it', async () => {
    const now = Date.now();
    const events = await fetch(`${server.url}/v1/events`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [
        { type: 'view', visitorId: 'v1', sessionId: 's1', optimization: 'hero', variation: 'bold', timestamp: now - 60_000 },
        { type: 'identify', visitorId: 'v1', sessionId: 's1', userDomain: 'salesforce', userId: '72349876', timestamp: now - 50_000 },
      ] }),
    });
    assert.equal(events.status, 200);
    const conversion = await fetch(`${server.url}/customer/123456789/event`, {
      method: 'POST', headers: { authorization: `ApiKey ${key}`, 'content-type': 'application/json' },
      body: `{ eventName: "application-accepted", userDomain: "salesforce", userId: "72349876", actionId: "23823940", actionTimestamp: ${now}, value: 149.99 }`,
    });
    assert.equal(conversion.status, 200);
    assert.equal((await admin('GET', '/conversions/23823940')).body.outcome, 'pending');

    const run = await admin('POST', '/attribution/run');
    assert.equal(run.status, 200);
    assert.deepEqual([run.body.conversionsProcessed, run.body.attributed, run.body.newlyAttributed], [1, 1, 1]);

    const answer = (await admin('GET', '/conversions/23823940')).body;
    assert.deepEqual([answer.outcome, answer.reason, answer.attributions.map((a: { variation: string }) => a.variation)], ['attributed', null, ['bold']]);
    const results = (await admin('GET', '/optimizations/hero/results')).body;
    assert.deepEqual(results.variations.map((v: { key: string; visitors: number; converters: number; value: number }) => [v.key, v.visitors, v.converters, v.value]),
      [['control', 0, 0, 0], ['bold', 1, 1, 149.99]]);
  });
});
