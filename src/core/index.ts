export * from './clock.js';
export * from './errors.js';
export * from './event.js';
export * from './result.js';
export { processAlive, processIdentity } from './process-identity.js';
export { siblingModule, spawnWorker } from './spawn-worker.js';
