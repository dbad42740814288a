import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/index.js';
import { RateLimiter, readTimestamp, truncateIp, type TimestampRules } from '../../src/ingest/index.js';
import { MAX_DEPTH, nestingDepth, readJson, UnreadableBody } from '../../src/server/body-parser.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const DAY = 86_400_000;

describe('truncateIp', () => {
  it('keeps the /24 of an IPv4 address', () => {
    assert.equal(truncateIp('203.0.113.77'), '203.0.113.0');
    assert.equal(truncateIp(' 198.51.100.255 '), '198.51.100.0');
  });

  it('keeps the /48 of an IPv6 address', () => {
    assert.equal(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348'), '2001:db8:85a3::');
    assert.equal(truncateIp('2001:DB8:85A3:ffff::1'), '2001:db8:85a3::');
  });

  it('expands :: before truncating an IPv6 address', () => {
    assert.equal(truncateIp('2001:db8::7348'), '2001:db8:0::');
    assert.equal(truncateIp('::1'), '0:0:0::');
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    assert.equal(truncateIp('::ffff:203.0.113.77'), '203.0.113.0');
    assert.equal(truncateIp('::FFFF:192.0.2.1'), '192.0.2.0');
  });

  it('answers null for anything that is not an IP address', () => {
    for (const bad of ['', 'localhost', '256.1.1.1', '1.2.3', '2001:db8::g', '203.0.113.77:8080']) {
      assert.equal(truncateIp(bad), null, bad);
    }
  });
});

describe('readTimestamp', () => {
  const rules = (accept: TimestampRules['accept'] = 'ms-or-iso', settings = { maxClockSkewMs: 60_000, maxEventAgeDays: 7 }): TimestampRules =>
    ({ now: T0, settings, accept });

  it('accepts epoch milliseconds and ISO 8601 with a zone', () => {
    assert.deepEqual(readTimestamp(T0 - 1000, 'timestamp', rules()), { ok: true, value: T0 - 1000 });
    assert.deepEqual(readTimestamp('2026-01-15T11:00:00Z', 'timestamp', rules()), { ok: true, value: T0 - 3_600_000 });
    assert.deepEqual(readTimestamp('2026-01-15T13:00:00.500+02:00', 'timestamp', rules()), { ok: true, value: T0 - 3_600_000 + 500 });
    assert.deepEqual(readTimestamp('2026-01-15T10:00:00-0100', 'timestamp', rules()), { ok: true, value: T0 - 3_600_000 });
  });

  it('accepts a time exactly maxClockSkewMs ahead and refuses one 1 ms further', () => {
    assert.deepEqual(readTimestamp(T0 + 60_000, 'timestamp', rules()), { ok: true, value: T0 + 60_000 });
    const r = readTimestamp(T0 + 60_001, 'timestamp', rules());
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 'timestamp_in_future');
    assert.equal(!r.ok && r.error.field, 'timestamp');
    assert.match(!r.ok ? r.error.message : '', /^timestamp 2026-01-15T12:01:00\.001Z is 60 s in the future; at most 60 s is allowed \(maxClockSkewMs\)/);
  });

  it('uses the workspace maxClockSkewMs', () => {
    const tight = rules('ms', { maxClockSkewMs: 0, maxEventAgeDays: 7 });
    assert.deepEqual(readTimestamp(T0, 'timestamp', tight), { ok: true, value: T0 });
    assert.equal(readTimestamp(T0 + 1, 'timestamp', tight).ok, false);
  });

  it('accepts a time exactly maxEventAgeDays old and refuses one 1 ms older', () => {
    assert.deepEqual(readTimestamp(T0 - 7 * DAY, 'timestamp', rules()), { ok: true, value: T0 - 7 * DAY });
    const r = readTimestamp(T0 - 7 * DAY - 1, 'timestamp', rules());
    assert.deepEqual(r, {
      ok: false,
      error: {
        code: 'timestamp_too_old', field: 'timestamp',
        message: 'timestamp 2026-01-08T11:59:59.999Z is older than this workspace\'s limit of 7 days (maxEventAgeDays).',
      },
    });
  });

  it('applies the age limit to ISO times too', () => {
    assert.equal(readTimestamp('2026-01-08T12:00:00Z', 'ts', rules()).ok, true);
    const r = readTimestamp('2026-01-08T11:59:59.999Z', 'ts', rules());
    assert.equal(!r.ok && r.error.code, 'timestamp_too_old');
  });

  it('rejects a timestamp in seconds and says so, with the milliseconds to send instead', () => {
    const r = readTimestamp(1578316150, 'actionTimestamp', rules('ms'));
    assert.deepEqual(r, {
      ok: false,
      error: {
        code: 'timestamp_in_seconds', field: 'actionTimestamp',
        message: 'actionTimestamp 1578316150 looks like UNIX seconds (2020-01-06T13:09:10.000Z); send UNIX milliseconds, e.g. 1578316150000.',
      },
    });
  });

  it('detects seconds below 100,000,000,000 and reads larger numbers as milliseconds', () => {
    const secs = readTimestamp(99_999_999_999, 't', rules());
    assert.equal(!secs.ok && secs.error.code, 'timestamp_in_seconds');
    const ms = readTimestamp(100_000_000_000, 't', rules());
    assert.equal(!ms.ok && ms.error.code, 'timestamp_too_old');
    const secondsNow = readTimestamp(Math.floor(T0 / 1000), 't', rules());
    assert.equal(!secondsNow.ok && secondsNow.error.code, 'timestamp_in_seconds');
  });

  it('refuses fractional, non-finite and wrongly typed times as timestamp_invalid', () => {
    for (const bad of [T0 + 0.5, Number.NaN, Number.POSITIVE_INFINITY, null, true, { at: T0 }]) {
      const r = readTimestamp(bad, 'timestamp', rules());
      assert.equal(!r.ok && r.error.code, 'timestamp_invalid', String(bad));
    }
  });

  it('refuses an ISO time without a zone or with only a date', () => {
    for (const bad of ['2026-01-15T12:00:00', '2026-01-15', '15/01/2026 12:00', 'yesterday', '2026-13-45T99:00:00Z']) {
      const r = readTimestamp(bad, 'timestamp', rules());
      assert.equal(!r.ok && r.error.code, 'timestamp_invalid', bad);
    }
  });

  it('accepts only the forms the dialect allows', () => {
    const msOnly = readTimestamp('2026-01-15T12:00:00Z', 'actionTimestamp', rules('ms'));
    assert.deepEqual(msOnly, { ok: false, error: { code: 'timestamp_invalid', field: 'actionTimestamp', message: 'actionTimestamp must be a number of UNIX milliseconds, got string.' } });
    const isoOnly = readTimestamp(T0, 'timestamp', rules('iso'));
    assert.deepEqual(isoOnly, { ok: false, error: { code: 'timestamp_invalid', field: 'timestamp', message: 'timestamp must be an ISO 8601 string, got number.' } });
  });
});

describe('RateLimiter', () => {
  it('allows a burst of one second\'s requests (limit / 60), then refuses with the seconds until one more fits', () => {
    const clock = new ManualClock(T0);
    const limiter = new RateLimiter(clock);
    const states = [1, 2, 3, 4].map(() => limiter.take('k', 240));
    assert.deepEqual(states.map((s) => s.remaining), [3, 2, 1, 0]);
    assert.deepEqual(states.map((s) => s.retryAfterSeconds), [null, null, null, null]);
    assert.deepEqual(limiter.take('k', 240), { limit: 240, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1 });
  });

  it('allows a single request at a time when the limit is under one a second', () => {
    const limiter = new RateLimiter(new ManualClock(T0));
    assert.deepEqual(limiter.take('k', 4), { limit: 4, remaining: 0, resetSeconds: 15, retryAfterSeconds: null });
    assert.deepEqual(limiter.take('k', 4), { limit: 4, remaining: 0, resetSeconds: 15, retryAfterSeconds: 15 });
  });

  it('refills at limit per minute as the clock advances', () => {
    const clock = new ManualClock(T0);
    const limiter = new RateLimiter(clock);
    limiter.take('k', 2);
    assert.equal(limiter.take('k', 2).retryAfterSeconds, 30);
    clock.advance(29_999);
    assert.equal(limiter.take('k', 2).retryAfterSeconds, 1);
    clock.advance(1);
    assert.deepEqual(limiter.take('k', 2), { limit: 2, remaining: 0, resetSeconds: 30, retryAfterSeconds: null });
    assert.equal(limiter.take('k', 2).retryAfterSeconds, 30);
  });

  it('is full again after a quiet minute, and never holds more than one second\'s requests', () => {
    const clock = new ManualClock(T0);
    const limiter = new RateLimiter(clock);
    for (let i = 0; i < 3; i++) limiter.take('k', 180);
    clock.advance(10 * 60_000);
    const states = [1, 2, 3, 4].map(() => limiter.take('k', 180));
    assert.deepEqual(states.map((s) => s.retryAfterSeconds), [null, null, null, 1]);
  });

  it('keeps a separate bucket per key', () => {
    const limiter = new RateLimiter(new ManualClock(T0));
    assert.equal(limiter.take('a', 1).retryAfterSeconds, null);
    assert.equal(limiter.take('a', 1).retryAfterSeconds, 60);
    assert.equal(limiter.take('b', 1).retryAfterSeconds, null);
  });

  it('does not spend a token on a refused request', () => {
    const clock = new ManualClock(T0);
    const limiter = new RateLimiter(clock);
    limiter.take('k', 1);
    for (let i = 0; i < 5; i++) limiter.take('k', 1);
    clock.advance(60_000);
    assert.equal(limiter.take('k', 1).retryAfterSeconds, null);
  });
});

describe('readJson', () => {
  const read = (text: string | Buffer, relaxed = false) => readJson(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), relaxed);
  const codeOf = (v: unknown) => (v instanceof UnreadableBody ? v.error.code : 'parsed');

  it('parses strict JSON', () => {
    assert.deepEqual(read('{"a":[1,"é",{"b":null}]}'), { a: [1, 'é', { b: null }] });
  });

  it('refuses a body that is not valid UTF-8', () => {
    const v = read(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    assert.ok(v instanceof UnreadableBody);
    assert.deepEqual(v.error, { code: 'invalid_utf8', message: 'The body is not valid UTF-8 text.' });
  });

  it('refuses an empty body and broken JSON as invalid_json', () => {
    assert.equal(codeOf(read('')), 'invalid_json');
    assert.equal(codeOf(read('  \n')), 'invalid_json');
    assert.equal(codeOf(read('{"a":1')), 'invalid_json');
    assert.equal(codeOf(read('{"a":1,}')), 'invalid_json');
  });

  it('refuses a __proto__ key', () => {
    assert.equal(codeOf(read('{"__proto__":{"admin":true}}')), 'forbidden_key');
    assert.equal(codeOf(read('{"events":[{"__proto__":{"admin":true}}]}')), 'forbidden_key');
    assert.equal(codeOf(read('{"__proto__":{"admin":true}}', true)), 'forbidden_key');
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  it('refuses a constructor.prototype key', () => {
    assert.equal(codeOf(read('{"a":{"constructor":{"prototype":{"admin":true}}}}')), 'forbidden_key');
    assert.equal(codeOf(read('{a: {constructor: {prototype: {admin: true}}}}', true)), 'forbidden_key');
  });

  it('accepts "constructor" as an ordinary key when it holds no prototype', () => {
    assert.deepEqual(read('{"constructor":"Acme Ltd"}'), { constructor: 'Acme Ltd' });
  });

  it('refuses 10,000-deep nesting without parsing it', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const v = read(deep);
    assert.ok(v instanceof UnreadableBody);
    assert.equal(v.error.code, 'nesting_too_deep');
    assert.equal(v.raw.length, 4096, 'keeps only the start of the body for the quarantine');
    // nestingDepth stops counting as soon as the limit is passed: it reports limit + 1, not 10,000.
    assert.equal(nestingDepth(deep, MAX_DEPTH), MAX_DEPTH + 1);
    assert.equal(nestingDepth('{"a":'.repeat(1_000_000), MAX_DEPTH), MAX_DEPTH + 1);
  });

  it('accepts nesting up to the limit', () => {
    const atLimit = '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH);
    assert.equal(codeOf(read(atLimit)), 'parsed');
    const over = '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1);
    assert.equal(codeOf(read(over)), 'nesting_too_deep');
  });

  it('reads unquoted keys (JSON5) only where relaxed', () => {
    const guide = '{\n customerId: "123456789",\n apiName: "application-accepted",\n actionTimestamp: 1578316150000,\n value: 149.99\n}';
    assert.deepEqual(read(guide, true), { customerId: '123456789', apiName: 'application-accepted', actionTimestamp: 1578316150000, value: 149.99 });
    assert.equal(codeOf(read(guide, false)), 'invalid_json');
  });

  it('still refuses text that is neither JSON nor JSON5 where relaxed', () => {
    assert.equal(codeOf(read('customerId=1&eventName=x', true)), 'invalid_json');
  });
});

describe('nestingDepth', () => {
  it('counts objects and arrays', () => {
    assert.equal(nestingDepth('1', 32), 0);
    assert.equal(nestingDepth('{"a":[{"b":[]}]}', 32), 4);
    assert.equal(nestingDepth('[[],[],[[]]]', 32), 3);
  });

  it('skips brackets inside strings, including after escaped quotes', () => {
    assert.equal(nestingDepth('{"a":"[[[[{{{{"}', 32), 1);
    assert.equal(nestingDepth('{"a":"\\"[[[[","b":"\\\\"}', 32), 1);
  });
});
