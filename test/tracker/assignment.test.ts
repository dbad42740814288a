import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assignmentHash, assignVariation, bucketOf, fnv1a32 } from '../../src/assignment/index.js';
import { assign, hash } from '../../src/tracker/browser/assign.js';

interface Vector { visitorId: string; optimization: string; variations: { key: string; weight: number }[]; hash: number; bucket: number; variation: string }
const VECTORS = JSON.parse(fs.readFileSync(new URL('./assignment-vectors.json', import.meta.url), 'utf8')) as {
  fnv1a32: { text: string; hash: number }[];
  vectors: Vector[];
};

/** The two implementations under one name each, so every assertion runs against both. */
const IMPLEMENTATIONS = [
  { name: 'server (src/assignment)', hash: assignmentHash, variation: (v: Omit<Vector, 'hash' | 'bucket' | 'variation'>) => assignVariation(v.visitorId, { key: v.optimization, variations: v.variations }) },
  { name: 'snippet (src/tracker/browser/assign.ts)', hash, variation: (v: Omit<Vector, 'hash' | 'bucket' | 'variation'>) => assign(v.visitorId, v.optimization, v.variations) },
];

describe('variation assignment', () => {
  it('hashes with FNV-1a as published (the vectors\' anchor)', () => {
    for (const { text, hash: expected } of VECTORS.fnv1a32) assert.equal(fnv1a32(text), expected, JSON.stringify(text));
  });

  for (const impl of IMPLEMENTATIONS) {
    it(`${impl.name} gives every shared vector's hash and variation`, () => {
      assert.ok(VECTORS.vectors.length >= 50);
      for (const v of VECTORS.vectors) {
        assert.equal(impl.hash(`${v.optimization}:${v.visitorId}`), v.hash, `${v.optimization}:${v.visitorId}`);
        assert.equal(impl.variation(v), v.variation, `${v.optimization}:${v.visitorId}`);
      }
    });
  }

  it('puts each vector in the bucket it states', () => {
    for (const v of VECTORS.vectors) assert.equal(bucketOf(v.visitorId, v.optimization), v.bucket);
  });

  it('agrees between server and snippet on any visitor, key and weights', () => {
    const weights = fc.array(fc.record({ key: fc.string({ minLength: 1, maxLength: 8 }), weight: fc.double({ min: 0.001, max: 1000, noNaN: true }) }), { minLength: 2, maxLength: 6 });
    fc.assert(fc.property(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 }), weights, (visitorId, key, variations) =>
      assignVariation(visitorId, { key, variations }) === assign(visitorId, key, variations)), { numRuns: 2000 });
  });

  it('distributes visitors by weight (1 : 3 over 20,000 visitors, within 1.5 points)', () => {
    const counts = { control: 0, annual: 0 };
    const variations = [{ key: 'control', weight: 1 }, { key: 'annual', weight: 3 }];
    fc.assert(fc.property(fc.uuid(), (id) => { counts[assignVariation(id, { key: 'pricing', variations }) as 'control' | 'annual']++; }), { numRuns: 20_000, seed: 42 });
    assert.ok(Math.abs(counts.control / 20_000 - 0.25) < 0.015, JSON.stringify(counts));
  });

  it('assigns independently per optimization (a visitor\'s bucket in one says nothing of another)', () => {
    let same = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      if ((bucketOf(id, 'a') < 0.5) === (bucketOf(id, 'b') < 0.5)) same++;
    }
    assert.ok(Math.abs(same / n - 0.5) < 0.02, `${same} of ${n}`);
  });

  it('is undefined only for an optimization without variations', () => {
    assert.equal(assignVariation('550e8400-e29b-41d4-a716-446655440000', { key: 'x', variations: [] }), undefined);
    assert.equal(assign('550e8400-e29b-41d4-a716-446655440000', 'x', []), undefined);
  });
});
