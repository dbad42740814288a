import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';

describe('GET /t.js', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  it('serves the snippet as JavaScript, cacheable, under 2 KB gzipped', async () => {
    const res = await t.app.fastify.inject({ method: 'GET', url: '/t.js', headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    assert.match(String(res.headers.etag), /^"[A-Za-z0-9_-]{27}"$/);
    assert.equal(res.headers.vary, 'Accept-Encoding');
    assert.ok(res.rawPayload.length <= 2048, `${res.rawPayload.length} bytes gzipped`);
    assert.match(gunzipSync(res.rawPayload).toString(), /^\(\(\)=>\{.*closeloop.*\}\)\(\);\n?$/s);
  });

  it('serves it uncompressed to a client that does not accept gzip, and 304 to a revalidation', async () => {
    const plain = await t.app.fastify.inject({ method: 'GET', url: '/t.js' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(plain.body, /collect\/config\?key=/);
    const again = await t.app.fastify.inject({ method: 'GET', url: '/t.js', headers: { 'if-none-match': String(plain.headers.etag) } });
    assert.deepEqual([again.statusCode, again.body], [304, '']);
  });
});

describe('GET /collect/config', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  it('gives the snippet the session rules, the privacy setting and the running optimizations with their weights', async () => {
    const ws = await t.workspace('cfg', { sessionTimeoutMinutes: 10, sessionMaxHours: 4, honorGlobalPrivacyControl: true });
    await t.admin('POST', '/admin/v1/workspaces/cfg/goals', { apiName: 'signup' });
    await t.admin('POST', '/admin/v1/workspaces/cfg/optimizations', { key: 'hero', variations: [{ key: 'control' }, { key: 'bold', weight: 3 }], goals: ['signup'] });
    await t.admin('POST', '/admin/v1/workspaces/cfg/optimizations', { key: 'old', variations: [{ key: 'a' }, { key: 'b' }], goals: ['signup'], status: 'ended' });
    const res = await t.call({ method: 'GET', url: `/collect/config?key=${ws.browserKey}`, headers: { origin: 'https://shop.example' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      sessionTimeoutMinutes: 10, sessionMaxHours: 4, honorGlobalPrivacyControl: true,
      optimizations: [{ key: 'hero', variations: [{ key: 'control', weight: 1 }, { key: 'bold', weight: 3 }] }],
    });
    assert.deepEqual([res.headers['cache-control'], res.headers['access-control-allow-origin']], ['private, max-age=60', 'https://shop.example']);
  });

  it('refuses a server key or none, and a page from an origin the workspace does not admit', async () => {
    const ws = await t.workspace('cfg2', { allowedOrigins: ['https://shop.example'] });
    for (const url of [`/collect/config?key=${ws.serverKey}`, '/collect/config']) {
      const res = await t.call({ method: 'GET', url });
      assert.deepEqual([res.status, res.body.error.code], [401, 'unauthorized'], url);
    }
    const foreign = await t.call({ method: 'GET', url: `/collect/config?key=${ws.browserKey}`, headers: { origin: 'https://evil.example' } });
    assert.deepEqual([foreign.status, foreign.body.error.code, foreign.headers['access-control-allow-origin']], [403, 'origin_not_allowed', undefined]);
  });
});
