import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

describe('loadConfig', () => {
  it('takes defaults, then the environment, then flags', () => {
    const defaults = loadConfig({});
    assert.deepEqual([defaults.host, defaults.port, defaults.dataDir, defaults.maxBodyBytes, defaults.logLevel], ['127.0.0.1', 8080, path.resolve('./data'), 1_048_576, 'info']);
    const env = loadConfig({ PORT: '9000', CLOSELOOP_DATA: '/tmp/cl-env-test', CLOSELOOP_LOG_LEVEL: 'warn' });
    assert.deepEqual([env.port, env.dataDir, env.logLevel], [9000, '/tmp/cl-env-test', 'warn']);
    const flags = loadConfig({ PORT: '9000', CLOSELOOP_DATA: '/tmp/cl-env-test' }, { port: '0', data: '/tmp/cl-flag-test', 'log-level': 'error' });
    assert.deepEqual([flags.port, flags.dataDir, flags.logLevel], [0, '/tmp/cl-flag-test', 'error']);
  });

  it('is frozen', () => {
    const c = loadConfig({});
    assert.equal(Object.isFrozen(c), true);
    assert.throws(() => { (c as { port: number }).port = 1; }, TypeError);
  });

  it('reads CLOSELOOP_NOW as epoch milliseconds or ISO 8601', () => {
    assert.equal(loadConfig({ CLOSELOOP_NOW: '1653514258136' }).fixedNow, 1653514258136);
    assert.equal(loadConfig({ CLOSELOOP_NOW: '2022-05-25T21:30:58.136Z' }).fixedNow, 1653514258136);
  });

  it('reads the overload and slow-client settings, with production defaults', () => {
    const d = loadConfig({});
    assert.deepEqual(
      [d.maxInflightBytes, d.targetLatencyMs, d.maxPendingCommits, d.headersTimeoutMs, d.requestTimeoutMs, d.idleTimeoutMs, d.keepAliveTimeoutMs],
      [16 * 1_048_576, 500, 20_000, 10_000, 30_000, 30_000, 72_000],
    );
    const c = loadConfig({
      CLOSELOOP_MAX_INFLIGHT_BYTES: '2097152', CLOSELOOP_TARGET_LATENCY_MS: '250', CLOSELOOP_MAX_PENDING_COMMITS: '50',
      CLOSELOOP_HEADERS_TIMEOUT_MS: '1000', CLOSELOOP_REQUEST_TIMEOUT_MS: '2000', CLOSELOOP_IDLE_TIMEOUT_MS: '3000', CLOSELOOP_KEEP_ALIVE_TIMEOUT_MS: '4000',
    });
    assert.deepEqual(
      [c.maxInflightBytes, c.targetLatencyMs, c.maxPendingCommits, c.headersTimeoutMs, c.requestTimeoutMs, c.idleTimeoutMs, c.keepAliveTimeoutMs],
      [2_097_152, 250, 50, 1000, 2000, 3000, 4000],
    );
    assert.throws(() => loadConfig({ CLOSELOOP_MAX_INFLIGHT_BYTES: '65536' }), new ConfigError('CLOSELOOP_MAX_INFLIGHT_BYTES (65536) must be at least the body limit CLOSELOOP_MAX_BODY_BYTES (1048576), or a body of the largest allowed size could never be admitted.'));
    assert.throws(() => loadConfig({ CLOSELOOP_HEADERS_TIMEOUT_MS: '60000' }), new ConfigError('CLOSELOOP_HEADERS_TIMEOUT_MS (60000) must be at most CLOSELOOP_REQUEST_TIMEOUT_MS (30000): the headers are part of the request.'));
    assert.throws(() => loadConfig({ CLOSELOOP_REQUEST_TIMEOUT_MS: '0' }), new ConfigError('CLOSELOOP_REQUEST_TIMEOUT_MS must be a whole number from 100 to 3600000, got "0".'));
  });

  it('refuses bad values with a sentence that names the setting and the rule', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), new ConfigError('PORT must be a whole number from 0 to 65535, got "eighty".'));
    assert.throws(() => loadConfig({}, { port: '70000' }), new ConfigError('--port must be a whole number from 0 to 65535, got "70000".'));
    assert.throws(() => loadConfig({ CLOSELOOP_LOG_LEVEL: 'loud' }), new ConfigError('log level must be one of fatal, error, warn, info, debug, trace, silent, got "loud".'));
    assert.throws(() => loadConfig({ CLOSELOOP_NOW: 'yesterday' }), new ConfigError('CLOSELOOP_NOW must be epoch milliseconds or an ISO 8601 time, got "yesterday".'));
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' }), new ConfigError('DATABASE_URL must start with postgres:// or postgresql://, got "mysql://…@h/db".'));
  });
});
