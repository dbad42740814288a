export { Column, f64, i32 } from '../core/column.js';

/** Where each key's rows start once grouped by key in [0, keys): key k's rows are offsets[k] .. offsets[k + 1]. */
export function offsetsBy(key: Int32Array, keys: number): Int32Array {
  const offsets = new Int32Array(keys + 1);
  for (let i = 0; i < key.length; i++) offsets[key[i]! + 1]!++;
  for (let k = 0; k < keys; k++) offsets[k + 1]! += offsets[k]!;
  return offsets;
}
