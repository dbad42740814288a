import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a module given by URL. Built, the module is a .js file beside its
 * caller. Run from source under tsx (tests, benchmarks), Node 20 does not pass tsx's loader to a
 * worker, so a two-line bootstrap registers it before importing the .ts module.
 */
export function spawnWorker(jsModule: URL, workerData: unknown): Worker {
  if (!jsModule.pathname.endsWith('.ts')) return new Worker(jsModule, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(jsModule.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** The URL of a module beside `callerUrl`, with the caller's own extension (.ts from source, .js built). */
export function siblingModule(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}
