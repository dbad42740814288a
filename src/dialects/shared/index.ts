export { checker, jsonPath } from './check.js';
export { isRecord, scalarProperties } from './values.js';
