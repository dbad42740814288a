import path from 'node:path';

export * from './workspace-settings.js';

/** Process-wide configuration: defaults ← environment ← flags, validated once and frozen. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  /** Raw admin token from CLOSELOOP_ADMIN_TOKEN; when null one is generated on first start. */
  adminToken: string | null;
  maxBodyBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Longest a commit group waits to fill before it is written (0: next turn of the event loop). */
  commitMaxWaitMs: number;
  /** Largest number of rows one commit group writes. */
  commitMaxRows: number;
  /** Rejected events kept per workspace; the oldest are dropped past this. */
  quarantineMaxPerWorkspace: number;
  /** Requests beyond this many waiting for a commit are answered 503 rather than queued. */
  maxPendingCommits: number;
  /**
   * Bytes of ingestion request bodies the process holds at once (received, being parsed, or
   * waiting for their commit); a request that would pass it is answered 503 with Retry-After.
   * Bounds the memory that a flood of large batches can take.
   */
  maxInflightBytes: number;
  /**
   * Ingestion admits about this much work: new requests are refused (503, Retry-After) while the
   * bodies received and not yet answered exceed what the service answered in the last this-many
   * ms, or its event loop runs more than a quarter of it late. Bounds the wait of an admitted
   * request whatever the machine's pace.
   */
  targetLatencyMs: number;
  /** Longest a client may take to send a request's headers; then 408 and the connection is closed. */
  headersTimeoutMs: number;
  /** Longest a client may take to send a whole request (headers and body); then 408 and the connection is closed. */
  requestTimeoutMs: number;
  /** Longest a connection may stay silent while a request is open (nothing received, nothing sent); then it is closed. */
  idleTimeoutMs: number;
  /** Longest a kept-alive connection may wait for its next request. Longer than a load balancer's idle timeout (often 60 s), so the balancer closes first. */
  keepAliveTimeoutMs: number;
  /** Instant the clock starts at (epoch ms; it then runs normally), for demos and tests; null: the system clock. */
  fixedNow: number | null;
}

export type Flags = Partial<Record<'host' | 'port' | 'data' | 'log-level', string>>;

const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  databaseUrl: null,
  redisUrl: null,
  adminToken: null,
  maxBodyBytes: 1_048_576,
  logLevel: 'info',
  commitMaxWaitMs: 0,
  commitMaxRows: 5000,
  quarantineMaxPerWorkspace: 100_000,
  maxPendingCommits: 20_000,
  maxInflightBytes: 16 * 1_048_576,
  targetLatencyMs: 500,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  fixedNow: null,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
  }
  return n;
}

function instant(name: string, raw: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new ConfigError(`${name} must be epoch milliseconds or an ISO 8601 time, got "${raw}".`);
  return n;
}

/**
 * Builds the configuration. The only place that reads the environment.
 * @param env usually process.env
 * @param flags command-line flags, which win over the environment
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: Flags = {}, overrides: Partial<Config> = {}): Readonly<Config> {
  const c: Config = { ...DEFAULTS };
  if (env.CLOSELOOP_HOST) c.host = env.CLOSELOOP_HOST;
  if (env.PORT) c.port = integer('PORT', env.PORT, 0, 65535);
  if (env.CLOSELOOP_PORT) c.port = integer('CLOSELOOP_PORT', env.CLOSELOOP_PORT, 0, 65535);
  if (env.CLOSELOOP_DATA) c.dataDir = env.CLOSELOOP_DATA;
  if (env.DATABASE_URL) c.databaseUrl = env.DATABASE_URL;
  if (env.REDIS_URL) c.redisUrl = env.REDIS_URL;
  if (env.CLOSELOOP_ADMIN_TOKEN) c.adminToken = env.CLOSELOOP_ADMIN_TOKEN;
  if (env.CLOSELOOP_MAX_BODY_BYTES) c.maxBodyBytes = integer('CLOSELOOP_MAX_BODY_BYTES', env.CLOSELOOP_MAX_BODY_BYTES, 1024, 100 * 1_048_576);
  if (env.CLOSELOOP_COMMIT_MAX_WAIT_MS) c.commitMaxWaitMs = integer('CLOSELOOP_COMMIT_MAX_WAIT_MS', env.CLOSELOOP_COMMIT_MAX_WAIT_MS, 0, 1000);
  if (env.CLOSELOOP_MAX_PENDING_COMMITS) c.maxPendingCommits = integer('CLOSELOOP_MAX_PENDING_COMMITS', env.CLOSELOOP_MAX_PENDING_COMMITS, 1, 1_000_000);
  if (env.CLOSELOOP_MAX_INFLIGHT_BYTES) c.maxInflightBytes = integer('CLOSELOOP_MAX_INFLIGHT_BYTES', env.CLOSELOOP_MAX_INFLIGHT_BYTES, 1024, 64 * 1024 * 1_048_576);
  if (env.CLOSELOOP_TARGET_LATENCY_MS) c.targetLatencyMs = integer('CLOSELOOP_TARGET_LATENCY_MS', env.CLOSELOOP_TARGET_LATENCY_MS, 10, 600_000);
  if (env.CLOSELOOP_HEADERS_TIMEOUT_MS) c.headersTimeoutMs = integer('CLOSELOOP_HEADERS_TIMEOUT_MS', env.CLOSELOOP_HEADERS_TIMEOUT_MS, 100, 600_000);
  if (env.CLOSELOOP_REQUEST_TIMEOUT_MS) c.requestTimeoutMs = integer('CLOSELOOP_REQUEST_TIMEOUT_MS', env.CLOSELOOP_REQUEST_TIMEOUT_MS, 100, 3_600_000);
  if (env.CLOSELOOP_IDLE_TIMEOUT_MS) c.idleTimeoutMs = integer('CLOSELOOP_IDLE_TIMEOUT_MS', env.CLOSELOOP_IDLE_TIMEOUT_MS, 100, 3_600_000);
  if (env.CLOSELOOP_KEEP_ALIVE_TIMEOUT_MS) c.keepAliveTimeoutMs = integer('CLOSELOOP_KEEP_ALIVE_TIMEOUT_MS', env.CLOSELOOP_KEEP_ALIVE_TIMEOUT_MS, 100, 3_600_000);
  if (env.CLOSELOOP_NOW) c.fixedNow = instant('CLOSELOOP_NOW', env.CLOSELOOP_NOW);
  const level = flags['log-level'] ?? env.CLOSELOOP_LOG_LEVEL ?? env.LOG_LEVEL;
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`log level must be one of ${LOG_LEVELS.join(', ')}, got "${level}".`);
    c.logLevel = level as Config['logLevel'];
  }
  if (flags.host !== undefined) c.host = flags.host;
  if (flags.port !== undefined) c.port = integer('--port', flags.port, 0, 65535);
  if (flags.data !== undefined) c.dataDir = flags.data;
  Object.assign(c, overrides);
  if (c.databaseUrl !== null && !/^postgres(ql)?:\/\//.test(c.databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${c.databaseUrl.replace(/\/\/[^@]*@/, '//…@')}".`);
  }
  if (c.maxInflightBytes < c.maxBodyBytes) {
    throw new ConfigError(`CLOSELOOP_MAX_INFLIGHT_BYTES (${c.maxInflightBytes}) must be at least the body limit CLOSELOOP_MAX_BODY_BYTES (${c.maxBodyBytes}), or a body of the largest allowed size could never be admitted.`);
  }
  if (c.headersTimeoutMs > c.requestTimeoutMs) {
    throw new ConfigError(`CLOSELOOP_HEADERS_TIMEOUT_MS (${c.headersTimeoutMs}) must be at most CLOSELOOP_REQUEST_TIMEOUT_MS (${c.requestTimeoutMs}): the headers are part of the request.`);
  }
  c.dataDir = path.resolve(c.dataDir);
  return Object.freeze(c);
}
