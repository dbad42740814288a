export * from './clock.js';
export * from './errors.js';
export * from './event.js';
export * from './result.js';
export { siblingModule, spawnWorker } from './spawn-worker.js';
