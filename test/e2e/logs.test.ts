import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startRealServer, type RealServer } from '../helpers/server.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const EMAIL = 'Jane.Doe+logs@example.com';
const PHONE = '+1 (650) 555-0199';

describe('logs (real process, debug level)', () => {
  let server: RealServer;
  let key: string;

  before(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-logs-test-'));
    const init = await runCli(['init', '--workspace', 'logs', '--data', dataDir, '--json']);
    assert.equal(init.code, 0, init.stderr);
    key = (JSON.parse(init.stdout) as { serverKey: { key: string } }).serverKey.key;
    server = await startRealServer({ dataDir, env: { CLOSELOOP_LOG_LEVEL: 'debug' } });
  });
  after(async () => { await server.stop(); });

  it('never contain a key or raw PII, whatever the request', async () => {
    const post = (url: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const event = JSON.stringify({ event_type: 'purchase', user_data: { email: EMAIL, phone: PHONE }, properties: { order_id: 'o-1', note: EMAIL } });
    const answers = [
      await post(`/v1/track?api_key=${key}`, event),
      await post('/v1/track', event, { authorization: `Bearer ${key}` }),
      await post(`/v1/track?api_key=${key}x`, event),
      await post(`/v1/track?api_key=${key}`, `{"event_type": "purchase", "user_data": {"email": "${EMAIL}"`),
      await post(`/v1/track?api_key=${key}`, JSON.stringify({ event_type: 'purchase', timestamp: 'yesterday', user_data: { email: EMAIL } })),
      await post('/event', JSON.stringify({ customerId: 'logs', eventName: 'x', userDomain: 'crm', userId: EMAIL, actionId: 'a', actionTimestamp: 1 }), { authorization: `ApiKey ${key}` }),
    ];
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 401, 400, 400, 400]);
    for (const r of answers) {
      const text = await r.text();
      assert.equal(text.includes(EMAIL), false, `an answer echoes the email: ${text}`);
    }
    await server.stop();
    const logs = server.stdout() + server.stderr();
    assert.ok(logs.length > 0);
    for (const secret of [key, EMAIL, EMAIL.toLowerCase(), PHONE, '16505550199']) {
      assert.equal(logs.includes(secret), false, `the logs contain ${secret}`);
    }
  });
});
