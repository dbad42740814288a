export { Column, f64, i32 } from '../core/column.js';
