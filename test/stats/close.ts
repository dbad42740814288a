import assert from 'node:assert/strict';

/** Tolerance the spec sets for every figure: 1e-6, relative (spec/attribution.md §Stats). */
export const REL = 1e-6;

/**
 * Asserts that `actual` has the shape of `expected` and every number in it is within `rel`
 * relative error (absolute, below a magnitude of 1e-300, for an expected 0). Keys, nulls, strings
 * and booleans must match exactly; `undefined` in expected means "absent".
 */
export function assertClose(actual: unknown, expected: unknown, rel: number = REL, path = '$'): void {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${path}: expected a number, got ${String(actual)}`);
    const a = actual as number;
    const tolerance = rel * Math.max(Math.abs(expected), 1e-300);
    assert.ok(Math.abs(a - expected) <= tolerance, `${path}: ${a} is not within ${rel} (relative) of ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((item, i) => assertClose(actual[i], item, rel, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: expected an object`);
    const wanted = Object.keys(expected).filter((k) => (expected as Record<string, unknown>)[k] !== undefined).sort();
    assert.deepEqual(Object.keys(actual).sort(), wanted, `${path}: keys`);
    for (const key of wanted) assertClose((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], rel, `${path}.${key}`);
    return;
  }
  assert.equal(actual, expected, path);
}

/** Asserts that a value holds no NaN or ±Infinity anywhere (it would not survive JSON). */
export function assertJsonSafe(value: unknown, path = '$'): void {
  if (typeof value === 'number') assert.ok(Number.isFinite(value), `${path} is ${value}`);
  else if (Array.isArray(value)) value.forEach((v, i) => assertJsonSafe(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertJsonSafe(v, `${path}.${k}`);
  }
}
