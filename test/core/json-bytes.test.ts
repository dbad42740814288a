import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Interner } from '../../src/core/interner.js';
import { JsonBytes } from '../../src/core/json-bytes.js';

describe('JsonBytes', () => {
  it('writes any string as JSON.stringify does, from the string and from its UTF-8 bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      for (const s of [a, b, `"${a}\\\n\t${b}\u0000\u001f\u007f`]) {
        const out = new JsonBytes(4);
        out.string(s);
        const bytes = Buffer.from(s, 'utf8');
        // Lone surrogates do not survive UTF-8; the bytes' string is what an Interner would hold.
        const fromBytes = new JsonBytes(4).stringBytes(bytes, 0, bytes.length).text();
        assert.equal(out.text(), JSON.stringify(s));
        assert.equal(fromBytes, JSON.stringify(bytes.toString('utf8')));
      }
    }), { numRuns: 500 });
  });

  it('writes numbers as JSON.stringify does, null for what JSON cannot hold', () => {
    fc.assert(fc.property(fc.oneof(fc.maxSafeInteger(), fc.double(), fc.constantFrom(0, -0, 1e21, 2 ** 53, 1_767_225_600_000)), (x) => {
      assert.equal(new JsonBytes(1).num(x).text(), JSON.stringify(x));
    }), { numRuns: 2000 });
    assert.equal(new JsonBytes().num(null).text(), 'null');
  });

  it('grows as it writes and keeps what it wrote: a document of many parts parses back whole', () => {
    const interner = new Interner();
    const ids = ['v1', 'visitor "quoted"', 'back\\slash', 'naïve', '𝄞 clef', 'tab\there'].map((s) => interner.intern(s));
    const out = new JsonBytes(8).char('[');
    const expected: unknown[] = [];
    for (let i = 0; i < 5_000; i++) {
      if (i > 0) out.char(',');
      const k = ids[i % ids.length]!;
      out.char('[').num(i * 1_000_003).char(',');
      interner.writeJson(out, k);
      out.char(',').string(i % 2 === 0 ? null : 'hero').char(']');
      expected.push([i * 1_000_003, interner.name(k), i % 2 === 0 ? null : 'hero']);
    }
    out.char(']');
    assert.deepEqual(JSON.parse(out.text()), expected);
    assert.deepEqual(JSON.parse(out.bytes().toString('utf8')), expected);
    assert.equal(out.reset().length, 0);
  });
});
