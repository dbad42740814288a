import { startServer } from '../server/index.js';
import { configFrom, parse, type Io } from './context.js';

export const SERVE_HELP = `Usage: closeloop serve [--port 8080] [--host 127.0.0.1] [--data ./data]

Runs the service on the embedded SQLite store under --data. Prints
"closeloop listening on http://HOST:PORT" once it accepts requests (with --port 0, the port it got).
Stops cleanly on SIGTERM or SIGINT: stops accepting, writes every accepted event, closes the store.

Environment: CLOSELOOP_ADMIN_TOKEN (else one is generated and printed on first start),
PORT, CLOSELOOP_HOST, CLOSELOOP_DATA, CLOSELOOP_LOG_LEVEL, CLOSELOOP_MAX_BODY_BYTES;
overload: CLOSELOOP_MAX_INFLIGHT_BYTES, CLOSELOOP_TARGET_LATENCY_MS, CLOSELOOP_MAX_PENDING_COMMITS;
slow clients: CLOSELOOP_HEADERS_TIMEOUT_MS, CLOSELOOP_REQUEST_TIMEOUT_MS, CLOSELOOP_IDLE_TIMEOUT_MS,
CLOSELOOP_KEEP_ALIVE_TIMEOUT_MS (see the README's configuration).`;

export async function serve(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { port: { type: 'string', short: 'p' }, host: { type: 'string' }, 'log-level': { type: 'string' } });
  if (values.help === true) {
    io.out(SERVE_HELP);
    return 0;
  }
  const config = configFrom(io, values, {
    ...(values.port !== undefined ? { port: values.port } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values['log-level'] !== undefined ? { 'log-level': values['log-level'] } : {}),
  });
  // Printed as soon as it is stored, not once listening: a first start that fails to listen would lose it.
  const server = await startServer(config, undefined, {
    onGeneratedAdminToken: (token) => io.out(`Admin token (shown once, stored only as a hash; set CLOSELOOP_ADMIN_TOKEN to choose your own):\n  ${token}`),
  });
  io.out(`closeloop listening on ${server.url}`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      io.err(`closeloop: ${signal} received, finishing accepted requests…`);
      server.close().then(() => resolve(0), (err: unknown) => {
        io.err(`closeloop: shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        resolve(1);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
