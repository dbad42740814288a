export { checker, jsonPath } from './check.js';
export { isRecord, scalarProperties } from './values.js';
export { answerSingle, errorDetail, sortOutcome, type Sorted } from './outcome.js';
export { bodyItems } from './body.js';
