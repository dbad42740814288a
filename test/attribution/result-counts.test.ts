/**
 * The sorted earliest times a results tally keeps between queries (result-counts.ts): brought up
 * to date by merging the few that changed, they must equal sorting every visitor's earliest time
 * again. Whole results, kept and afresh, are checked in determinism.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Earliest } from '../../src/attribution/result-counts.js';

describe('results tally: earliest times per visitor', () => {
  it('gives the sorted earliest times after any notes, whether it merges the changes or sorts again', () => {
    // Few visitors and times, many notes: the same visitor lowered twice between two reads, ties, new visitors.
    const noteArb = fc.record({ visitor: fc.integer({ min: 0, max: 40 }), t: fc.integer({ min: 0, max: 30 }) });
    const stepArb = fc.oneof(fc.array(noteArb, { maxLength: 12 }), fc.constant('read' as const));
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 30 }), (steps) => {
      const e = new Earliest();
      const earliest = new Map<number, number>();
      for (const step of steps) {
        if (step === 'read') {
          assert.deepEqual([...e.sorted()], [...earliest.values()].sort((a, b) => a - b));
          continue;
        }
        for (const { visitor, t } of step) {
          e.note(visitor, t);
          earliest.set(visitor, Math.min(earliest.get(visitor) ?? Infinity, t));
        }
      }
      assert.deepEqual([...e.sorted()], [...earliest.values()].sort((a, b) => a - b));
    }), { numRuns: 3000 });
  });

  it('merges a few changes among many times instead of sorting again, with the same answer', () => {
    const e = new Earliest();
    const earliest = new Map<number, number>();
    const note = (v: number, t: number) => {
      e.note(v, t);
      earliest.set(v, Math.min(earliest.get(v) ?? Infinity, t));
    };
    for (let v = 0; v < 10_000; v++) note(v, (v * 7919) % 10_007);
    const before = e.sorted();
    note(5, -1);
    note(5, -2);
    note(20_000, 3.5);
    const after = e.sorted();
    assert.notEqual(after, before, 'brought up to date');
    assert.deepEqual([...after], [...earliest.values()].sort((a, b) => a - b));
  });
});
