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

  it('refuses bad values with a sentence that names the setting and the rule', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), new ConfigError('PORT must be a whole number from 0 to 65535, got "eighty".'));
    assert.throws(() => loadConfig({}, { port: '70000' }), new ConfigError('--port must be a whole number from 0 to 65535, got "70000".'));
    assert.throws(() => loadConfig({ CLOSELOOP_LOG_LEVEL: 'loud' }), new ConfigError('log level must be one of fatal, error, warn, info, debug, trace, silent, got "loud".'));
    assert.throws(() => loadConfig({ CLOSELOOP_NOW: 'yesterday' }), new ConfigError('CLOSELOOP_NOW must be epoch milliseconds or an ISO 8601 time, got "yesterday".'));
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' }), new ConfigError('DATABASE_URL must start with postgres:// or postgresql://, got "mysql://…@h/db".'));
  });
});
