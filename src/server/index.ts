import { ensureAdminToken } from '../admin/index.js';
import type { Config } from '../config/index.js';
import { ShiftedClock, systemClock, type Clock } from '../core/index.js';
import { openStore, type Store } from '../store/index.js';
import { buildApp, type App } from './app.js';
import { Metrics } from './metrics.js';

export { buildApp, type App, type AppDeps } from './app.js';
export { Metrics } from './metrics.js';
export { nestingDepth, readJson, UnreadableBody } from './body-parser.js';

export interface RunningServer {
  app: App;
  store: Store;
  url: string;
  port: number;
  /** The admin token, when this start generated it (first start without CLOSELOOP_ADMIN_TOKEN). */
  generatedAdminToken: string | null;
  /** Stops accepting, answers what is in flight, writes every accepted event, closes the store. */
  close(): Promise<void>;
}

/** The clock the configuration asks for: the system's, or one started at CLOSELOOP_NOW that then runs normally. */
export function clockFor(config: Pick<Config, 'fixedNow'>): Clock {
  return config.fixedNow === null ? systemClock : new ShiftedClock(config.fixedNow);
}

const MAIN_THREAD_BUSY_TIMEOUT_MS = 250;

/** Opens the store and listens. */
export async function startServer(config: Readonly<Config>, clock: Clock = clockFor(config)): Promise<RunningServer> {
  const metrics = new Metrics();
  // The event loop's connection waits at most 250 ms for a lock held elsewhere (a long admin
  // write of another process): /healthz and every other request wait with it. Ingestion writes
  // on the writer thread, which keeps the 5 s wait.
  const store = await openStore(config, clock, (rows, ms) => metrics.commit(rows, ms), MAIN_THREAD_BUSY_TIMEOUT_MS);
  const token = await ensureAdminToken(store, config.adminToken);
  const app = await buildApp({ config, store, clock, metrics, adminTokenHash: token.hash, attributionInWorker: true });
  await app.fastify.listen({ host: config.host, port: config.port });
  app.scheduler.start();
  const address = app.fastify.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | null = null;
  return {
    app, store, port, url: `http://${host}:${port}`, generatedAdminToken: token.generated,
    close: () => {
      closing ??= (async () => {
        app.drain();
        await app.scheduler.stop();
        await app.fastify.close();
        await store.close();
      })();
      return closing;
    },
  };
}
