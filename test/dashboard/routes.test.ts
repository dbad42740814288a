import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';

describe('GET / and /dashboard/* (the dashboard\'s files)', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  const assets = (html: string) => [...html.matchAll(/\/dashboard\/(app\.[A-Za-z0-9]{12}\.(?:js|css))/g)].map((m) => m[1]!);

  it('serves the page as HTML, revalidated on every load, locked down by a content security policy', async () => {
    const res = await t.app.fastify.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      [res.headers['content-type'], res.headers['cache-control'], res.headers['x-content-type-options'], res.headers['x-frame-options'], res.headers['referrer-policy']],
      ['text/html; charset=utf-8', 'no-cache', 'nosniff', 'DENY', 'no-referrer'],
    );
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    assert.match(res.body, /^<!doctype html>/);
    assert.equal(assets(res.body).length, 2, 'one script and one stylesheet, named by their content');
  });

  it('serves the script and stylesheet with their types, cached for a year, gzipped on request, 304 on revalidation', async () => {
    const names = assets((await t.app.fastify.inject({ method: 'GET', url: '/' })).body);
    const [js, css] = [names.find((n) => n.endsWith('.js'))!, names.find((n) => n.endsWith('.css'))!];
    const script = await t.app.fastify.inject({ method: 'GET', url: `/dashboard/${js}`, headers: { 'accept-encoding': 'gzip' } });
    assert.deepEqual([script.statusCode, script.headers['content-type'], script.headers['cache-control'], script.headers['content-encoding']],
      [200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable', 'gzip']);
    assert.match(gunzipSync(script.rawPayload).toString(), /admin\/v1/);
    const style = await t.app.fastify.inject({ method: 'GET', url: `/dashboard/${css}` });
    assert.deepEqual([style.statusCode, style.headers['content-type'], style.headers['content-encoding']], [200, 'text/css; charset=utf-8', undefined]);
    assert.match(style.body, /\.uplot/, 'uPlot\'s stylesheet is bundled: nothing is fetched from elsewhere');
    const again = await t.app.fastify.inject({ method: 'GET', url: `/dashboard/${css}`, headers: { 'if-none-match': String(style.headers.etag) } });
    assert.deepEqual([again.statusCode, again.body], [304, '']);
  });

  it('answers 404 for a file it does not have (an old build\'s, say)', async () => {
    const res = await t.call({ method: 'GET', url: '/dashboard/app.000000000000.js' });
    assert.deepEqual([res.status, res.body.error.code], [404, 'not_found']);
  });

  it('keeps the dashboard out of the API description', async () => {
    const doc = (await t.call({ method: 'GET', url: '/openapi.json' })).body;
    assert.equal(Object.keys(doc.paths).some((p: string) => p === '/' || p.startsWith('/dashboard')), false);
  });
});
