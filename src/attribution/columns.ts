export { Column, f64, i32, sharedF64, sharedI32 } from '../core/column.js';
