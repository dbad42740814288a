/**
 * Outcomes and restatements as bytes (src/store/outcome-bytes.ts), as an attribution run writes
 * them (RunWrites, from its numbers and from values, with the workspace's words or without) and
 * as the store reads them back, and chunks written by earlier builds (BINARY): every value
 * survives, whatever its strings hold, and a restatement's `after` is the outcome's summary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteReader, ByteWriter } from '../../src/core/bytes.js';
import { Interner } from '../../src/core/interner.js';
import { eachOutcome, readChanges, readOutcomes, readSummary, summaryOf, WORDS } from '../../src/store/outcome-bytes.js';
import { RunWrites, WorkspaceWords, type OutcomeValues } from '../../src/store/index.js';
import { legacyChunk } from './legacy-bytes.js';

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
const stored_ = (o: OutcomeValues, runId: number) => ({
  eventId: o.eventId, outcome: o.reason === null ? 'attributed' : 'not_attributed', reason: o.reason, goalId: o.goalId,
  attributions: o.attributions, detail: { visitors: o.visitors, deciding: o.deciding }, runId,
});

/**
 * Writes the outcomes as a run does, from numbers: every string interned first, named by its
 * number; optimization keys, variation names and reasons as words when `stored` (the workspace's
 * words so far) is given.
 */
function fromNumbers(list: OutcomeValues[], stored: string[] | null = null): RunWrites {
  const names = new Interner();
  const nameBytes = { writeBytes: (out: ByteWriter, k: number) => names.writeLiteral(out, k), nameOf: (k: number) => names.name(k) };
  const writes = new RunWrites(nameBytes, 256, stored === null ? null : new WorkspaceWords(stored, nameBytes));
  for (const o of list) {
    const s = writes.begin(o.reason, o.goalId);
    // The run names optimizations by their JS string and the rest by number.
    for (const a of o.attributions) writes.attribution(s.word(a.optimization), s.wordName(names.intern(a.variation)), a.viewedAt, s.name(names.intern(a.visitorId)));
    writes.summaryEnd();
    for (const v of o.visitors) writes.visitor(s.name(names.intern(v)));
    const d = o.deciding;
    if (d !== null) writes.deciding(s.word(d.optimization), s.wordName(names.intern(d.variation)), d.viewedAt, s.name(names.intern(d.visitorId)), d.sessionStart, d.sessionEnd);
    writes.end(o.eventId, o.fingerprint);
  }
  return writes;
}

/** A chunk of the run's outcomes, as the store writes one. */
function chunk(writes: RunWrites, runId: number): Buffer {
  const out = new ByteWriter(16).u8(WORDS).varint(writes.length);
  for (let i = 0; i < writes.length; i++) writes.writeItem(out, i, runId);
  return Buffer.from(out.bytes());
}

/** The words a run's outcomes read with: those it started from and added (none: it wrote text only). */
const wordsOf = (writes: RunWrites): readonly string[] => writes.words?.list() ?? [];

describe('outcomes as bytes', () => {
  it('reads back every outcome a run wrote, from its numbers or from values, with words or without, whatever its strings hold', () => {
    fc.assert(fc.property(outcomes, fc.nat(), fc.uniqueArray(text, { maxLength: 4 }), (list, runId, stored) => {
      const byValues = new RunWrites();
      for (const o of list) byValues.add(o);
      const expected = list.map((o) => stored_(o, runId));
      assert.deepEqual(readOutcomes(chunk(byValues, runId), []), expected);
      for (const byNumbers of [fromNumbers(list), fromNumbers(list, stored)]) {
        assert.deepEqual(readOutcomes(chunk(byNumbers, runId), wordsOf(byNumbers)), expected);
        list.forEach((o, i) => {
          assert.deepEqual(byNumbers.attributions(i), o.attributions);
          assert.deepEqual([byNumbers.eventId(i), byNumbers.reason(i), byNumbers.fingerprint(i)], [o.eventId, o.reason, o.fingerprint]);
        });
      }
      // Words: the stored ones keep their numbers; those added are the run's optimization keys, variation names and reasons, each once.
      const withWords = fromNumbers(list, stored);
      const added = withWords.words!.added();
      assert.deepEqual(withWords.words!.list(), [...stored, ...added]);
      const named = new Set(list.flatMap((o) => [o.reason, ...o.attributions.flatMap((a) => [a.optimization, a.variation]),
        ...(o.deciding === null ? [] : [o.deciding.optimization, o.deciding.variation])]).filter((x) => x !== null));
      assert.deepEqual(new Set(added), new Set([...named].filter((x) => !stored.includes(x))));
      // A string an outcome names both as a word and as text (a visitor id that is also a variation
      // name) is one entry as text, and a word (up to 3 bytes) and the text with words.
      const both = list.reduce((n, o) => {
        const d = o.deciding;
        const words = new Set([o.reason, ...o.attributions.flatMap((a) => [a.optimization, a.variation]), ...(d === null ? [] : [d.optimization, d.variation])]);
        const texts = new Set([...o.attributions.map((a) => a.visitorId), ...o.visitors, ...(d === null ? [] : [d.visitorId])]);
        return n + [...texts].filter((x) => words.has(x)).length;
      }, 0);
      assert.ok(chunk(withWords, runId).length <= chunk(fromNumbers(list), runId).length + 3 * both, 'words take no more bytes than text');
      // A chunk an earlier build wrote reads as it did.
      assert.deepEqual(readOutcomes(legacyChunk(list, runId), stored), expected);
    }), { numRuns: 300 });
  });

  it('records a restatement whose after is the outcome as written and whose before is what it was', () => {
    fc.assert(fc.property(outcomes, fc.array(fc.record({ reason: fc.option(text, { nil: null }), attributions: fc.array(attribution, { maxLength: 3 }) }), { maxLength: 30 }),
      (list, befores) => {
        const writes = fromNumbers(list, ['bold']);
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
        const out = new ByteWriter(8).u8(WORDS).varint(writes.changes);
        for (let k = 0; k < writes.changes; k++) writes.writeChange(out, k);
        // The after of a restated outcome names it (AS_WRITTEN): read from the outcomes as the store keeps them.
        const words = wordsOf(writes);
        const written = readOutcomes(chunk(writes, 1), words);
        const asked: number[][] = [];
        const changes = readChanges(out.bytes(), words, (eventIds) => {
          asked.push(eventIds);
          return new Map(written.filter((o) => eventIds.includes(o.eventId)).map((o) => [o.eventId, o]));
        });
        assert.deepEqual(changes, expected);
        const restated = list.filter((_, i) => i % 3 !== 2).map((o) => o.eventId);
        assert.deepEqual(asked, restated.length > 0 ? [restated] : [], 'asked once, for the restated outcomes');
        if (restated.length > 0) assert.throws(() => readChanges(out.bytes(), words, () => new Map()), /neither it nor a summary kept of it is stored/);
        // Where each outcome's summary is in its body, as a later run keeps it: it reads as the outcome's.
        const bytes = chunk(writes, 1);
        eachOutcome(bytes, (eventId, _runId, start) => {
          const [from, to] = summaryOf(bytes, start);
          const r = new ByteReader(bytes, from);
          const s = readSummary(r, words);
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
    for (let cut = 1; cut < whole.length; cut++) assert.throws(() => readOutcomes(whole.subarray(0, cut), []), /Outcome bytes end early|names string/);
    // A word the workspace does not have is refused by name, not read as another.
    const worded = fromNumbers([{ eventId: 7, reason: 'late', goalId: 1, fingerprint: 1, attributions: [], visitors: [], deciding: null }], []);
    assert.throws(() => readOutcomes(chunk(worded, 3), []), /name word 0 of the workspace's 0/);
    assert.equal(readOutcomes(chunk(worded, 3), ['late'])[0]!.reason, 'late');
  });
});
