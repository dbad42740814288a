/**
 * Ingestion admission in-process: an upload that holds the body budget makes the next request
 * be refused in its dialect's own shape with 503 and Retry-After, nothing stored; a body that
 * stops fitting half-way is read to its end and refused the same way; once answered, nothing is
 * left counted against the budget.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { InflightBytes } from '../../src/server/admission-budget.js';
import { testApp, type TestApp } from '../helpers/app.js';

const KB = 1024;

/** A valid batch of about `bytes` bytes, sent all but its last two bytes now and the rest when `finish` is called. */
function stalledBody(bytes: number): { stream: PassThrough; length: number; finish: () => void } {
  const event = `{"type":"pageview","url":"https://shop.example/${'u'.repeat(50)}"}`;
  const text = `{"events":[${Array.from({ length: Math.round(bytes / (event.length + 1)) }, () => event).join(',')}]}`;
  const stream = new PassThrough();
  stream.write(text.slice(0, -2));
  return { stream, length: Buffer.byteLength(text), finish: () => stream.end(text.slice(-2)) };
}

describe('ingestion admission', () => {
  let t: TestApp;
  let ws: Awaited<ReturnType<TestApp['workspace']>>;
  const inflight = async () => Number(/^closeloop_ingest_inflight_bytes (\d+)/m.exec((await t.call({ method: 'GET', url: '/metrics' })).raw)?.[1]);

  before(async () => {
    // A 64 KB budget (the smallest the body limit allows): one stalled upload fills most of it.
    t = await testApp({ maxBodyBytes: 64 * KB, maxInflightBytes: 64 * KB });
    ws = await t.workspace('admission');
  });
  after(() => t.close());

  it('refuses a request that does not fit before reading it, in each dialect\'s shape, with Retry-After, and stores nothing', async () => {
    const { stream, length, finish } = stalledBody(40 * KB);
    const holding = t.call({
      method: 'POST', url: '/v1/events', payload: stream,
      headers: { authorization: `Bearer ${ws.serverKey}`, 'content-type': 'application/json', 'content-length': String(length) },
    });
    await new Promise((resolve) => setImmediate(resolve));
    const body = JSON.stringify({ pad: 'p'.repeat(30 * KB) });
    const auth = { authorization: `Bearer ${ws.serverKey}` };
    const calls = [
      { url: '/v1/events', headers: auth, shape: (b: any) => b.error.code },
      { url: '/event', headers: { authorization: `ApiKey ${ws.serverKey}` }, shape: (b: any) => b.error },
      { url: '/v1/track', headers: auth, shape: (b: any) => b.code },
      { url: `/api/v1/websites/${ws.id}/track`, headers: auth, shape: (b: any) => b.error },
      { url: `/collect?key=${ws.browserKey}`, headers: {}, shape: (b: any) => b.error.code },
    ];
    const answers = [];
    for (const c of calls) {
      const res = await t.call({ method: 'POST', url: c.url, headers: { ...c.headers, 'content-type': 'application/json' }, payload: body });
      answers.push([c.url, res.status, res.headers['retry-after'], c.shape(res.body)]);
    }
    assert.deepEqual(answers, [
      ['/v1/events', 503, '1', 'overloaded'],
      ['/event', 503, '1', 'overloaded'],
      ['/v1/track', 503, '1', 'overloaded'],
      [`/api/v1/websites/${ws.id}/track`, 503, '1', 'service_unavailable'],
      [`/collect?key=${ws.browserKey}`, 503, '1', 'overloaded'],
    ]);
    // Other endpoints are not ingestion: the admin API answers as usual.
    assert.equal((await t.admin('GET', `/admin/v1/workspaces/${ws.id}`)).status, 200);
    finish();
    const held = await holding;
    assert.equal(held.status, 200, JSON.stringify(held.body));
    assert.equal(await inflight(), 0);
    assert.equal((await t.admin('GET', `/admin/v1/workspaces/${ws.id}/events?limit=1000`)).body.events.length, held.body.ids.length, 'only the admitted request stored anything');
  });

  it('reads a body that stops fitting half-way to its end, then refuses it', async () => {
    const { stream, finish } = stalledBody(40 * KB);
    const holding = t.call({ method: 'POST', url: '/v1/events', payload: stream, headers: { authorization: `Bearer ${ws.serverKey}`, 'content-type': 'application/json' } });
    await new Promise((resolve) => setImmediate(resolve));
    // No Content-Length: nothing is set aside, the bytes are taken as they arrive.
    const chunked = new PassThrough();
    chunked.end(JSON.stringify({ events: Array.from({ length: 300 }, () => ({ type: 'pageview', url: `https://shop.example/${'c'.repeat(80)}` })) }));
    const refused = await t.call({ method: 'POST', url: '/v1/events', payload: chunked, headers: { authorization: `Bearer ${ws.serverKey}`, 'content-type': 'application/json' } });
    assert.deepEqual([refused.status, refused.headers['retry-after'], refused.body.error.code], [503, '1', 'overloaded']);
    finish();
    const held = await holding;
    assert.equal(held.status, 200, JSON.stringify(held.body));
    assert.equal(await inflight(), 0);
  });

  it('gives back what a body over the limit announced (413), and what a refused key sent (401)', async () => {
    const huge = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.serverKey}`, 'content-type': 'application/json' }, payload: 'x'.repeat(64 * KB + 1) });
    const unknown = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: 'Bearer cl_sk_unknown', 'content-type': 'application/json' }, payload: { type: 'pageview' } });
    assert.deepEqual([huge.status, unknown.status], [413, 401]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await inflight(), 0);
    const full = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.serverKey}`, 'content-type': 'application/json' }, payload: JSON.stringify({ type: 'pageview' }).padEnd(64 * KB, ' ') });
    assert.equal(full.status, 200, 'a body of the full limit is admitted by an idle service');
  });
});

describe('InflightBytes', () => {
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it('admits within the floor always, beyond it only what the recent pace answers within the target', async () => {
    let now = 0;
    const b = new InflightBytes(1000, 500, 100, () => now);
    assert.equal(b.admit(100), true, 'the floor');
    assert.equal(b.admit(1), false, 'nothing answered yet: no pace to go by');
    b.give(100);
    await nextTurn();
    b.answered.add(1200); // 600 B/s over the last 2 s: 300 B of work per 500 ms
    assert.equal(b.admit(300), true);
    assert.equal(b.admit(1), false, 'what was admitted in this turn counts as work before its body arrives');
    await nextTurn();
    b.arrived(300);
    assert.equal(b.admit(1), false, 'its body arrived: 300 B of work');
    b.done(300);
    b.give(300);
    now += 2500;
    assert.equal(b.admit(101), false, 'the pace is forgotten after two seconds');
  });

  it('counts a body announced but not arriving against memory, not against the pace', async () => {
    const b = new InflightBytes(1000, 500, 100, () => 0);
    assert.equal(b.admit(100), true);
    await nextTurn();
    assert.equal(b.admit(100), true, 'the first body has not arrived: no work yet');
    await nextTurn();
    assert.deepEqual([b.held, b.work], [200, 0]);
    assert.equal(b.take(800), true, 'a body already admitted may take up to the limit');
    assert.equal(b.take(1), false);
    assert.equal(b.admit(0), true, 'memory is full, but a request without a body holds none');
    assert.equal(b.admit(1), false, 'memory is full');
  });
});
