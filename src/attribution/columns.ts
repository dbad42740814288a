export { Column, f64, i32 } from '../core/column.js';

/**
 * Groups rows by a key in [0, keys): offsets[k]..offsets[k+1] are the positions of key k's rows
 * in `order`, which lists row indexes stably (a counting sort).
 */
export function groupBy(key: Int32Array, keys: number): { offsets: Int32Array; order: Int32Array } {
  const offsets = new Int32Array(keys + 1);
  for (let i = 0; i < key.length; i++) offsets[key[i]! + 1]!++;
  for (let k = 0; k < keys; k++) offsets[k + 1]! += offsets[k]!;
  const next = offsets.slice(0, keys);
  const order = new Int32Array(key.length);
  for (let i = 0; i < key.length; i++) order[next[key[i]!]!++] = i;
  return { offsets, order };
}

/** values[order[j]] for every j: a column rearranged into grouped order. */
export function gather<A extends Float64Array | Int32Array>(values: A, order: Int32Array, make: (n: number) => A): A {
  const out = make(order.length);
  for (let j = 0; j < order.length; j++) out[j] = values[order[j]!]!;
  return out;
}
