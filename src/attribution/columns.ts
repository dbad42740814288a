import { Column, sharedF64Array, sharedI32Array } from '../core/column.js';

export { alike, Column, f64, i32, isShared, sharedF64Array, sharedI32Array } from '../core/column.js';

/**
 * Columns in shared memory, which grow in shared memory: those of a run's activity index and
 * conversions when read from a snapshot (or made so), so that a second thread can judge part of a
 * large run's conversions over them as they are (judge-thread.ts).
 */
export const sharedF64 = (capacity?: number) => new Column<Float64Array>(sharedF64Array, capacity);
export const sharedI32 = (capacity?: number) => new Column<Int32Array>(sharedI32Array, capacity);
