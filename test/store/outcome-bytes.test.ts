/**
 * Outcomes and restatements as bytes (src/store/outcome-bytes.ts), as an attribution run writes
 * them (RunWrites, from its numbers and from values) and as the store reads them back: every
 * value survives, whatever its strings hold, and a restatement's `after` is the outcome's summary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteReader, ByteWriter } from '../../src/core/bytes.js';
import { Interner } from '../../src/core/interner.js';
import { BINARY, eachOutcome, readChanges, readOutcomes, readSummary, summaryOf } from '../../src/store/outcome-bytes.js';
import { RunWrites, type OutcomeValues } from '../../src/store/index.js';

const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom('hero', 'bold', 'v1', ''));
const instant = fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), fc.double({ noNaN: true }));
/** fast-check's records have no prototype; what the store reads back are plain objects. */
const plain = <T extends object>(o: T): T => ({ ...o });
const attribution = fc.record({ optimization: text, variation: text, viewedAt: instant, visitorId: text }).map(plain);
const deciding = fc.record({ optimization: text, variation: text, viewedAt: instant, visitorId: text, sessionStart: instant, sessionEnd: instant }).map(plain);
const outcome = fc.record({
  reason: fc.option(text, { nil: null }),
  goalId: fc.option(fc.nat(), { nil: null }),
  fingerprint: fc.double({ noNaN: true }),
  attributions: fc.array(attribution, { maxLength: 4 }),
  visitors: fc.array(text, { maxLength: 5 }),
  deciding: fc.option(deciding, { nil: null }),
});
/** Outcomes with increasing event ids. */
const outcomes = fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), outcome), { maxLength: 30 })
  .map((list) => { let id = 0; return list.map(([step, o]) => ({ ...o, eventId: (id += step) })); });

/** The stored outcome a run's values stand for. */
const stored = (o: OutcomeValues, runId: number) => ({
  eventId: o.eventId, outcome: o.reason === null ? 'attributed' : 'not_attributed', reason: o.reason, goalId: o.goalId,
  attributions: o.attributions, detail: { visitors: o.visitors, deciding: o.deciding }, runId,
});

/** Writes the outcomes as a run does, from numbers: every string interned first, named by its number. */
function fromNumbers(list: OutcomeValues[]): RunWrites {
  const names = new Interner();
  const writes = new RunWrites({ writeBytes: (out, k) => names.writeUtf8(out, k) });
  for (const o of list) {
    const s = writes.begin(o.reason, o.goalId);
    // The run names optimizations by their JS string and the rest by number.
    for (const a of o.attributions) writes.attribution(s.text(a.optimization), s.name(names.intern(a.variation)), a.viewedAt, s.name(names.intern(a.visitorId)));
    writes.summaryEnd();
    for (const v of o.visitors) writes.visitor(s.name(names.intern(v)));
    const d = o.deciding;
    if (d !== null) writes.deciding(s.text(d.optimization), s.name(names.intern(d.variation)), d.viewedAt, s.name(names.intern(d.visitorId)), d.sessionStart, d.sessionEnd);
    writes.end(o.eventId, o.fingerprint);
  }
  return writes;
}

/** A chunk of the run's outcomes, as the store writes one. */
function chunk(writes: RunWrites, runId: number): Buffer {
  const out = new ByteWriter(16).u8(BINARY).varint(writes.length);
  for (let i = 0; i < writes.length; i++) writes.writeItem(out, i, runId);
  return Buffer.from(out.bytes());
}

describe('outcomes as bytes', () => {
  it('reads back every outcome a run wrote, from its numbers or from values, whatever its strings hold', () => {
    fc.assert(fc.property(outcomes, fc.nat(), (list, runId) => {
      const byValues = new RunWrites();
      for (const o of list) byValues.add(o);
      const expected = list.map((o) => stored(o, runId));
      assert.deepEqual(readOutcomes(chunk(byValues, runId)), expected);
      const byNumbers = fromNumbers(list);
      assert.deepEqual(readOutcomes(chunk(byNumbers, runId)), expected);
      list.forEach((o, i) => {
        assert.deepEqual(byNumbers.attributions(i), o.attributions);
        assert.deepEqual([byNumbers.eventId(i), byNumbers.reason(i), byNumbers.fingerprint(i)], [o.eventId, o.reason, o.fingerprint]);
      });
    }), { numRuns: 300 });
  });

  it('records a restatement whose after is the outcome as written and whose before is what it was', () => {
    fc.assert(fc.property(outcomes, fc.array(fc.record({ reason: fc.option(text, { nil: null }), attributions: fc.array(attribution, { maxLength: 3 }) }), { maxLength: 30 }),
      (list, befores) => {
        const writes = fromNumbers(list);
        const summary = (s: { reason: string | null; attributions: OutcomeValues['attributions'] }) =>
          ({ outcome: s.reason === null ? 'attributed' : 'not_attributed', reason: s.reason, attributions: s.attributions });
        const expected: unknown[] = [];
        list.forEach((o, i) => {
          const before = befores[i] ?? null;
          if (i % 3 === 2) return; // not every outcome restates
          writes.restate(i, before);
          expected.push({ eventId: o.eventId, before: before === null ? null : summary(before), after: summary(o) });
        });
        befores.slice(list.length).forEach((b, k) => {
          writes.withdraw(5_000_000 + k, b);
          expected.push({ eventId: 5_000_000 + k, before: summary(b), after: null });
        });
        assert.equal(writes.changes, expected.length);
        const out = new ByteWriter(8).u8(BINARY).varint(writes.changes);
        for (let k = 0; k < writes.changes; k++) writes.writeChange(out, k);
        // The after of a restated outcome names it (AS_WRITTEN): read from the outcomes as the store keeps them.
        const written = readOutcomes(chunk(writes, 1));
        const asked: number[][] = [];
        const changes = readChanges(out.bytes(), (eventIds) => {
          asked.push(eventIds);
          return new Map(written.filter((o) => eventIds.includes(o.eventId)).map((o) => [o.eventId, o]));
        });
        assert.deepEqual(changes, expected);
        const restated = list.filter((_, i) => i % 3 !== 2).map((o) => o.eventId);
        assert.deepEqual(asked, restated.length > 0 ? [restated] : [], 'asked once, for the restated outcomes');
        if (restated.length > 0) assert.throws(() => readChanges(out.bytes(), () => new Map()), /neither it nor a summary kept of it is stored/);
        // Where each outcome's summary is in its body, as a later run keeps it: it reads as the outcome's.
        const bytes = chunk(writes, 1);
        eachOutcome(bytes, (eventId, _runId, start) => {
          const [from, to] = summaryOf(bytes, start);
          const r = new ByteReader(bytes, from);
          const s = readSummary(r);
          assert.equal(r.at, to);
          const o = written.find((x) => x.eventId === eventId)!;
          assert.deepEqual(s, { reason: o.reason, attributions: o.attributions });
        });
      }), { numRuns: 300 });
  });

  it('writes any non-negative safe integer as a varint that reads back, and refuses anything else', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.maxSafeInteger().filter((x) => x >= 0), fc.constantFrom(0, 127, 128, 2 ** 31, 2 ** 53 - 1))), (xs) => {
      const out = new ByteWriter(1);
      for (const x of xs) out.varint(x);
      const r = new ByteReader(out.bytes());
      assert.deepEqual(xs.map(() => r.varint()), xs);
      assert.equal(r.at, out.length);
    }));
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN]) assert.throws(() => new ByteWriter().varint(bad), /Not a non-negative safe integer/);
  });

  it('refuses bytes cut short, naming what happened, rather than reading past them', () => {
    const writes = new RunWrites();
    writes.add({ eventId: 7, reason: null, goalId: 1, fingerprint: 1, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: 5, visitorId: 'v1' }], visitors: ['v1'], deciding: null });
    const whole = chunk(writes, 3);
    for (let cut = 1; cut < whole.length; cut++) assert.throws(() => readOutcomes(whole.subarray(0, cut)), /Outcome bytes end early|names string/);
  });
});
