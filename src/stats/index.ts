/**
 * Statistics of an optimization's results (spec/attribution.md §Stats): pure functions over
 * counts, no I/O and no clock. `variationResults` gives the whole answer; the building blocks are
 * exported for callers that need one figure.
 */
export { variationResults } from './results.js';
export { chanceToBeat } from './chance-to-beat.js';
export { differenceInterval, pooledZTestPValue, Z_95 } from './proportions.js';
export { DEFAULT_SEQUENTIAL_TUNING, mixtureSprt, sequentialDifference, sequentialRho2, type NormalEstimate } from './sequential.js';
export { sampleRatioMismatch, SRM_THRESHOLD, type SrmArm } from './srm.js';
export type * from './types.js';
