export { DIALECTS, dialectByName } from './registry.js';
export type { Dialect, DialectRoute, HttpAnswer, HttpInput } from './types.js';
export { eventIdOf } from './convultra/index.js';
export { checker } from './shared/index.js';
