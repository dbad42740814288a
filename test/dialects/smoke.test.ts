import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';

describe('native dialect', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  it('stores a conversion and answers with its id', async () => {
    const ws = await t.workspace('acme');
    const res = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.serverKey}` }, payload: { type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: 'k1' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true, ids: [1], duplicates: 0 });
  });
});
