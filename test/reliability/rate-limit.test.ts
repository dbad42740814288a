/**
 * Rate-limit accuracy on the simulated clock (in-process, ManualClock): a key driven at ten times
 * its limit for a minute gets its limit (±2 %), whichever dialect each request comes through;
 * the workspace's other keys and another workspace's keys, sending at their own limits, are
 * never refused; every 429 carries Retry-After and RateLimit-* headers, and the Retry-After is
 * honest: a request sent that many seconds later goes through, and none before a second earlier would have.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { eventCount, T0, testApp, type TestApp } from '../helpers/app.js';
import { figure, sized } from './profile.js';

const MINUTE = 60_000;

interface Answer { status: number; body: any; headers: LightMyRequestResponse['headers'] }

/** One server key and how to send a valid event with it through each backend dialect. */
interface Sender {
  name: string;
  limit: number;
  send(dialectIndex: number): Promise<Answer>;
}

/** The four backend dialects, each with a valid event that no other request repeats. */
function sender(t: TestApp, name: string, ws: string, key: string, limit: number): Sender {
  let n = 0;
  const post = (url: string, auth: string, payload: object) =>
    t.call({ method: 'POST', url, headers: { authorization: auth, 'content-type': 'application/json' }, payload });
  const dialects = [
    () => post('/v1/events', `Bearer ${key}`, { type: 'pageview', visitorId: `${name}-v${n}`, url: `https://shop.example/p/${n}` }),
    () => post(`/customer/${ws}/event`, `ApiKey ${key}`, { eventName: 'deal-won', userDomain: 'crm', userId: `u${n}`, actionId: `${name}-a${n}`, actionTimestamp: t.clock.now() - 1000 }),
    () => post('/v1/track', `Bearer ${key}`, { event_type: 'signup', session_id: `${name}-s${n}` }),
    () => post(`/api/v1/websites/${ws}/track`, `Bearer ${key}`, { name: 'signup', payload: { n } }),
  ];
  return { name, limit, send: (d) => { n++; return dialects[d % dialects.length]!(); } };
}

/** The 429 as each dialect words it, in the order of `sender`'s dialects. */
const LIMITED_BODY = [
  (b: any) => b.error?.code === 'rate_limited',
  (b: any) => b.error === 'rate_limited',
  (b: any) => b.success === false && b.code === 'rate_limited',
  (b: any) => b.error === 'rate_limit_exceeded' && Number.isInteger(b.retry_after),
];

/** `count` instants spread evenly over [start, start + span), whole milliseconds. */
const spread = (start: number, span: number, count: number) => Array.from({ length: count }, (_, i) => start + Math.floor((i * span) / count));

interface Sent { at: number; key: Sender; dialect: number; status: number; retryAfter: number | null }

/**
 * Headers every answer must carry (spec/api.md §6): RateLimit-Limit the key's limit,
 * RateLimit-Remaining and RateLimit-Reset whole numbers, and on a 429 a Retry-After of at least 1 s.
 * Returns the Retry-After in seconds, or null.
 */
function checkHeaders(s: Sender, dialect: number, res: Answer): number | null {
  const h = res.headers;
  const where = `${s.name} (${res.status}): ${JSON.stringify(h)}`;
  assert.equal(h['ratelimit-limit'], String(s.limit), where);
  assert.match(String(h['ratelimit-remaining']), /^\d+$/, where);
  assert.ok(Number(h['ratelimit-remaining']) <= s.limit, where);
  assert.match(String(h['ratelimit-reset']), /^\d+$/, where);
  if (res.status !== 429) {
    assert.equal(h['retry-after'], undefined, where);
    return null;
  }
  assert.match(String(h['retry-after']), /^[1-9]\d*$/, where);
  assert.equal(h['ratelimit-remaining'], '0', where);
  assert.ok(LIMITED_BODY[dialect % LIMITED_BODY.length]!(res.body), `${where} ${JSON.stringify(res.body)}`);
  return Number(h['retry-after']);
}

/**
 * Checks every 429 of one key against what came after it: refused requests spend nothing, so the
 * bucket stands still until the key's next success. Honest means the first request sent at or
 * after `at + Retry-After` is that success (or comes after it), and no request succeeds a second
 * or more before the Retry-After ran out (it is rounded up to whole seconds).
 */
function dishonestRetryAfters(sent: readonly Sent[]): string[] {
  const problems: string[] = [];
  let nextOk = -1;
  const nextOkAfter: number[] = new Array(sent.length);
  for (let i = sent.length - 1; i >= 0; i--) {
    nextOkAfter[i] = nextOk;
    if (sent[i]!.status === 200) nextOk = i;
  }
  for (let i = 0; i < sent.length; i++) {
    const r = sent[i]!;
    if (r.retryAfter === null) continue;
    const okAt = nextOkAfter[i] === -1 ? null : sent[nextOkAfter[i]!]!.at;
    const due = r.at + r.retryAfter * 1000;
    const firstDue = sent.find((s, j) => j > i && s.at >= due);
    if (firstDue !== undefined && (okAt === null || okAt > firstDue.at)) problems.push(`429 at +${r.at - T0} ms said Retry-After ${r.retryAfter} s, but the request at +${firstDue.at - T0} ms was refused too`);
    if (okAt !== null && r.retryAfter > 1 && okAt < due - 1000) problems.push(`429 at +${r.at - T0} ms said Retry-After ${r.retryAfter} s, but a request at +${okAt - T0} ms succeeded`);
  }
  return problems;
}

describe('rate-limit accuracy (simulated clock)', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  it('holds a key driven at 10× its limit to that limit per minute, and refuses nobody sending at their own limit', async () => {
    const limit = sized(300, 6000);
    const ownLimit = sized(120, 1200);
    const otherLimit = sized(240, 3000);
    const a = await t.workspace('rate-a', { rateLimitPerMinute: limit });
    const b = await t.workspace('rate-b', { rateLimitPerMinute: otherLimit });
    const own = await t.admin('POST', '/admin/v1/workspaces/rate-a/keys', { name: 'own limit', kind: 'server', rateLimitPerMinute: ownLimit });
    const second = await t.admin('POST', '/admin/v1/workspaces/rate-a/keys', { name: 'second', kind: 'server' });
    assert.deepEqual([own.status, second.status], [201, 201]);

    const flooder = sender(t, 'flooder', a.id, a.serverKey, limit);
    const ownFlooder = sender(t, 'own-limit flooder', a.id, own.body.key, ownLimit);
    const neighbour = sender(t, 'same-workspace key at its limit', a.id, second.body.key, limit);
    const stranger = sender(t, 'other workspace at its limit', b.id, b.serverKey, otherLimit);

    // One timeline for every key, each request at its own instant, the clock set before each.
    const start = t.clock.now();
    const plan = [
      ...spread(start, MINUTE, 10 * limit).map((at) => ({ at, key: flooder })),
      ...spread(start, MINUTE, 10 * ownLimit).map((at) => ({ at, key: ownFlooder })),
      ...spread(start, MINUTE, limit).map((at) => ({ at, key: neighbour })),
      ...spread(start, MINUTE, otherLimit).map((at) => ({ at, key: stranger })),
    ].sort((x, y) => x.at - y.at);
    const sent = new Map<Sender, Sent[]>([flooder, ownFlooder, neighbour, stranger].map((s) => [s, []]));
    let i = 0;
    for (const { at, key } of plan) {
      t.clock.set(at);
      const dialect = i++;
      const res = await key.send(dialect);
      assert.ok(res.status === 200 || res.status === 429, `${key.name}: ${res.status} ${JSON.stringify(res.body)}`);
      sent.get(key)!.push({ at, key, dialect, status: res.status, retryAfter: checkHeaders(key, dialect, res) });
    }

    const accepted = (s: Sender) => sent.get(s)!.filter((r) => r.status === 200).length;
    const refused = (s: Sender) => sent.get(s)!.length - accepted(s);
    const off = (s: Sender) => (accepted(s) - s.limit) / s.limit;
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} %`;
    figure('rate-limit', `key at 10× its workspace limit of ${limit}/min for 60 s: ${accepted(flooder)} accepted (${pct(off(flooder))}), ${refused(flooder)} × 429`);
    figure('rate-limit', `key at 10× its own limit of ${ownLimit}/min for 60 s: ${accepted(ownFlooder)} accepted (${pct(off(ownFlooder))}), ${refused(ownFlooder)} × 429`);
    figure('rate-limit', `same-workspace key at its limit: ${refused(neighbour)} × 429 of ${limit}; other workspace at its limit: ${refused(stranger)} × 429 of ${otherLimit}`);

    assert.ok(Math.abs(off(flooder)) <= 0.02, `the flooding key got ${accepted(flooder)} of its ${limit} per minute (${pct(off(flooder))})`);
    assert.ok(Math.abs(off(ownFlooder)) <= 0.02, `the key with its own limit got ${accepted(ownFlooder)} of its ${ownLimit} per minute (${pct(off(ownFlooder))})`);
    assert.equal(refused(neighbour), 0, 'the workspace\'s other key, at its limit, is never refused');
    assert.equal(refused(stranger), 0, 'another workspace\'s key, at its limit, is never refused');

    const dishonest = [flooder, ownFlooder].flatMap((s) => dishonestRetryAfters(sent.get(s)!));
    figure('rate-limit', `${refused(flooder) + refused(ownFlooder)} × 429, every one with Retry-After and RateLimit-*; ${dishonest.length} dishonest Retry-After`);
    assert.deepEqual(dishonest.slice(0, 10), []);

    // What was answered 200 is what was stored, per workspace.
    const stored = (ws: string) => eventCount(t, ws);
    assert.equal(await stored(a.id), accepted(flooder) + accepted(ownFlooder) + accepted(neighbour));
    assert.equal(await stored(b.id), accepted(stranger));
  });

  it('lets a request through after exactly the Retry-After it was given, on every dialect', async () => {
    // 7 a minute: one every 8.6 s, so a Retry-After can be anything from 1 to 9 s.
    const limit = 7;
    const ws = await t.workspace('rate-retry', { rateLimitPerMinute: limit });
    const s = sender(t, 'retrier', ws.id, ws.serverKey, limit);
    const waits: number[] = [];
    for (let dialect = 0; dialect < 4 * sized(5, 25); dialect++) {
      // Spend the bucket on this dialect, then wait exactly as long as the 429 says.
      let res = await s.send(dialect);
      while (res.status === 200) res = await s.send(dialect);
      const retryAfter = checkHeaders(s, dialect, res)!;
      waits.push(retryAfter);
      t.clock.advance(retryAfter * 1000);
      const again = await s.send(dialect);
      assert.equal(again.status, 200, `after waiting Retry-After ${retryAfter} s: ${again.status} ${JSON.stringify(again.body)}`);
      checkHeaders(s, dialect, again);
      // Uneven gaps shorter than the 8.6 s between requests, so the 429s land at every phase of a refill.
      t.clock.advance((dialect * 7919) % 8000);
    }
    figure('rate-limit', `${waits.length} × 429 then a wait of exactly Retry-After (${Math.min(...waits)}–${Math.max(...waits)} s): ${waits.length} × 200`);
  });
});
