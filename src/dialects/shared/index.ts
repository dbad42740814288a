export { checker, jsonPath } from './check.js';
export { isRecord, scalarProperties } from './values.js';
export { answerSingle, errorDetail, privately, sortOutcome, withoutPii, type Sorted } from './outcome.js';
export { bodyItems } from './body.js';
