/**
 * The id filters of event segments (id-filter.ts): a reader of a few ids skips a segment only
 * when its filter says it holds none of them, so a filter must never say no for an id the
 * segment holds, and should seldom say yes for one it does not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { idFilter, idProbes, mayHold } from '../../src/store/id-filter.js';
import { toColumns, type ScannedEvent } from '../../src/store/index.js';

const event = (i: number, visitorId: string | null, sessionId: string | null, userId: string | null): ScannedEvent => ({
  id: i + 1, type: userId === null ? 'view' : 'identify', name: null, occurredAt: i, receivedAt: i, idempotencyKey: `order-${i}`, visitorId, sessionId,
  userDomain: userId === null ? null : 'crm', userId, optimization: 'hero', variation: 'bold', value: null, source: 'native',
});

describe('id filters of event segments', () => {
  it('never says a segment lacks a visitor, session or user id that one of its events carries', () => {
    const idArb = fc.option(fc.string({ maxLength: 12, unit: 'binary' }), { nil: null });
    fc.assert(fc.property(fc.array(fc.tuple(idArb, idArb, idArb), { minLength: 1, maxLength: 60 }), (rows) => {
      const events = rows.map(([v, s, u], i) => event(i, v, s, u));
      const filter = idFilter(toColumns(events));
      for (const id of rows.flat()) if (id !== null) assert.ok(mayHold(filter, idProbes([id])), JSON.stringify(id));
      assert.ok(mayHold(filter, idProbes(['surely-not-there', rows.find((r) => r[0] !== null)?.[0] ?? rows.flat().find((x) => x !== null) ?? ''])) || rows.flat().every((x) => x === null),
        'one id held among several is enough');
    }), { numRuns: 2000 });
  });

  it('says no for nearly every id it does not hold, and nothing of names, keys or variations', () => {
    const events = Array.from({ length: 20_000 }, (_, i) => event(i, `v${i % 6_000}`, `s${i % 7_000}`, i % 10 === 0 ? `u${i}` : null));
    const filter = idFilter(toColumns(events));
    let yes = 0;
    for (let k = 0; k < 20_000; k++) if (mayHold(filter, idProbes([`absent-${k}`]))) yes++;
    assert.ok(yes / 20_000 < 0.02, `false positives: ${(100 * yes / 20_000).toFixed(2)} % (about 1 % expected at 10 bits an id)`);
    // 15,600 ids at 10 bits each, rounded up to a power of two: at most twice that.
    assert.ok(filter.length <= 4 + (2 * 15_600 * 10) / 8, `${filter.length} bytes for 15,600 ids`);
    assert.ok(!mayHold(filter, idProbes(['order-5', 'hero', 'bold', 'crm'])), 'idempotency keys, optimizations, variations and domains are not ids it holds');
    assert.ok(mayHold(filter, idProbes(['v5999'])) && mayHold(filter, idProbes(['s6999'])) && mayHold(filter, idProbes(['u19990'])));
  });

  it('answers yes (read the segment) for a filter of a format it does not know', () => {
    const filter = idFilter(toColumns([event(0, 'v1', null, null)]));
    filter[0] = 99;
    assert.ok(mayHold(filter, idProbes(['absent'])));
    assert.ok(mayHold(new Uint8Array(2), idProbes(['absent'])));
  });
});
