/**
 * The command line as a user runs it (bin/closeloop.js, built), on a temporary --data folder.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RealServer, removeTestDir, runCli, startRealServer } from '../helpers/server.js';

/** Commands that stamp times run with the clock started here (CLOSELOOP_NOW), one hour apart. */
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const at = (ms: number) => ({ CLOSELOOP_NOW: String(ms) });
/** A command's own clock runs on from CLOSELOOP_NOW; a stamp lands within this of it. */
const SLACK = 60_000;

function testDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-cli-test-'));
}

/** Runs closeloop on `dir`. */
const cli = (dir: string, args: string[], env: Record<string, string> = {}) => runCli([...args, '--data', dir], env);

/** Runs it with --json, expects exit 0 and returns the parsed output. */
async function json(dir: string, args: string[], env: Record<string, string> = {}): Promise<any> {
  const res = await cli(dir, [...args, '--json'], env);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '');
  return JSON.parse(res.stdout);
}

/** A refusal: non-zero exit, nothing on stdout, one sentence on one line of stderr naming the command. */
function assertOneSentence(res: { code: number | null; stdout: string; stderr: string }, command: string, mentions: RegExp): void {
  assert.notEqual(res.code, 0);
  assert.equal(res.stdout, '');
  const line = res.stderr.trimEnd();
  assert.doesNotMatch(line, /\n/, `one line: ${line}`);
  assert.match(line, new RegExp(`^closeloop${command === '' ? '' : ` ${command}`}: \\S.*\\.$`));
  assert.match(line, mentions);
}

const inRange = (ms: number, from: number) => ms >= from && ms < from + SLACK;

describe('closeloop CLI', () => {
  describe('init', () => {
    let dir: string;
    before(() => { dir = testDataDir(); });
    after(() => removeTestDir(dir));

    it('prints the keys, the snippet tag and a curl example per dialect, and stores the keys only as hashes', async () => {
      const res = await cli(dir, ['init', '--workspace', 'acme']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '');
      const serverKey = /server key .*?(cl_sk_\S{32,})/.exec(res.stdout)?.[1];
      const browserKey = /browser key .*?(cl_pk_\S{32,})/.exec(res.stdout)?.[1];
      assert.ok(serverKey && browserKey, res.stdout);
      assert.match(res.stdout, /admin token .*cl_admin_\S+/, 'the first init of a data folder prints the generated admin token');
      assert.ok(res.stdout.includes(`<script async src="http://127.0.0.1:8080/t.js" data-key="${browserKey}"></script>`));
      const examples = res.stdout.split(/^# /m).slice(1).map((block) => block.split('\n')[0]);
      assert.deepEqual(examples, ['native', 'optimize', 'convultra', 'webanalyzer']);
      for (const block of res.stdout.split(/^# /m).slice(1)) assert.match(block, new RegExp(`^\\w+\\ncurl [^]*${serverKey}`));

      const listed = await cli(dir, ['keys', 'list', '--workspace', 'acme']);
      assert.equal(listed.code, 0);
      assert.ok(!listed.stdout.includes(serverKey) && !listed.stdout.includes(browserKey), 'keys are shown once, at creation');
      const files = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1')).join('');
      assert.ok(!files.includes(serverKey) && !files.includes(browserKey), 'no key is on disk in the clear');
    });

    it('refuses a workspace id that exists with one sentence and a non-zero exit', async () => {
      const res = await cli(dir, ['init', '--workspace', 'acme']);
      assertOneSentence(res, 'init', /"acme" already exists/);
      assert.equal(res.code, 1);
    });

    it('prints machine-readable JSON with --json, without the admin token once one exists', async () => {
      const out = await json(dir, ['init', '--workspace', 'globex', '--name', 'Globex Corp', '--url', 'https://track.globex.test']);
      assert.match(out.serverKey.key, /^cl_sk_[A-Za-z0-9_-]{32,}$/);
      assert.match(out.browserKey.key, /^cl_pk_[A-Za-z0-9_-]{32,}$/);
      assert.deepEqual(out, {
        workspace: { id: 'globex', name: 'Globex Corp' },
        serverKey: { id: out.serverKey.id, key: out.serverKey.key },
        browserKey: { id: out.browserKey.id, key: out.browserKey.key },
        adminToken: null,
        snippet: `<script async src="https://track.globex.test/t.js" data-key="${out.browserKey.key}"></script>`,
        curl: { native: out.curl.native, optimize: out.curl.optimize, convultra: out.curl.convultra, webanalyzer: out.curl.webanalyzer },
      });
      assert.match(out.curl.webanalyzer, /^curl -X POST https:\/\/track\.globex\.test\/api\/v1\/websites\/globex\/track /);
      assert.match(out.curl.optimize, /"customerId": "globex"/);
    });

    it('refuses an invalid workspace id with one sentence', async () => {
      assertOneSentence(await cli(dir, ['init', '--workspace', 'no spaces!']), 'init', /--workspace/);
    });
  });

  describe('keys, goals and optimizations', () => {
    let dir: string;
    before(async () => {
      dir = testDataDir();
      assert.equal((await cli(dir, ['init', '--workspace', 'acme'], at(T0))).code, 0);
    });
    after(() => removeTestDir(dir));

    it('creates, lists and revokes keys', async () => {
      const made = await json(dir, ['keys', 'create', '--name', 'CRM webhook', '--rate-limit', '120'], at(T0 + HOUR));
      assert.ok(inRange(made.createdAt, T0 + HOUR));
      assert.deepEqual(made, {
        id: made.id, name: 'CRM webhook', kind: 'server', prefix: made.key.slice(0, made.prefix.length), rateLimitPerMinute: 120,
        createdAt: made.createdAt, revokedAt: null, status: 'active', key: made.key,
      });
      const { key, ...view } = made;
      assert.match(key, /^cl_sk_/);

      const listed = await json(dir, ['keys', 'list', '--workspace', 'acme']);
      assert.deepEqual(listed.keys.map((k: any) => [k.name, k.kind, k.status]), [['server (init)', 'server', 'active'], ['browser (init)', 'browser', 'active'], ['CRM webhook', 'server', 'active']]);
      assert.deepEqual(listed.keys[2], view);
      assert.ok(!JSON.stringify(listed).includes(key));

      const revoked = await json(dir, ['keys', 'revoke', made.id], at(T0 + 2 * HOUR));
      assert.ok(inRange(revoked.revokedAt, T0 + 2 * HOUR));
      assert.deepEqual(revoked, { ...view, revokedAt: revoked.revokedAt, status: 'revoked' });
      const table = await cli(dir, ['keys', 'list']);
      assert.match(table.stdout, new RegExp(`${made.id}\\s+CRM webhook\\s+server\\s+\\S+\\s+revoked`));
    });

    it('creates and renames goals, and lists the old name with the interval it was valid in', async () => {
      const made = await json(dir, ['goals', 'create', 'app-accepted', '--name', 'Application accepted'], at(T0));
      const renamed = await json(dir, ['goals', 'rename', 'app-accepted', 'application-accepted'], at(T0 + HOUR));
      const [from, to] = [made.history[0].validFrom, renamed.history[1].validFrom];
      assert.ok(inRange(from, T0) && inRange(to, T0 + HOUR), `${from} ${to}`);
      const expected = {
        id: made.id, apiName: 'application-accepted', name: 'Application accepted', createdAt: from,
        history: [{ apiName: 'app-accepted', validFrom: from, validTo: to }, { apiName: 'application-accepted', validFrom: to, validTo: null }],
      };
      assert.deepEqual(renamed, expected);
      assert.deepEqual((await json(dir, ['goals', 'list'])).goals, [expected]);
      const table = await cli(dir, ['goals', 'list']);
      assert.match(table.stdout, /app-accepted 2026-01-15T12:00:\S+–2026-01-15T13:00:\S+; application-accepted 2026-01-15T13:00:\S+–now/);
    });

    it('refuses to rename a goal that does not exist, with one sentence', async () => {
      assertOneSentence(await cli(dir, ['goals', 'rename', 'nope', 'other']), 'goals', /"nope"/);
    });

    it('creates and lists optimizations and changes their status', async () => {
      await json(dir, ['goals', 'create', 'lead'], at(T0));
      await json(dir, ['goals', 'create', 'purchase'], at(T0));
      const made = await json(dir, ['optimizations', 'create', 'hero', '--variations', 'control,bold:3', '--goals', 'lead,purchase', '--primary-goal', 'purchase', '--name', 'Hero headline'], at(T0));
      const expected = {
        key: 'hero', name: 'Hero headline', status: 'running',
        variations: [{ key: 'control', name: 'control', weight: 1 }, { key: 'bold', name: 'bold', weight: 3 }],
        control: 'control', goals: ['lead', 'purchase'], primaryGoal: 'purchase', createdAt: made.createdAt, updatedAt: made.createdAt,
      };
      assert.deepEqual(made, expected);
      assert.deepEqual((await json(dir, ['optimizations', 'list'])).optimizations, [expected]);
      const paused = await json(dir, ['optimizations', 'set-status', 'hero', 'paused'], at(T0 + HOUR));
      assert.ok(inRange(paused.updatedAt, T0 + HOUR));
      assert.deepEqual(paused, { ...expected, status: 'paused', updatedAt: paused.updatedAt });
      const table = await cli(dir, ['optimizations', 'list']);
      assert.match(table.stdout, /^hero\s+paused\s+control:1,bold:3\s+control\s+lead,purchase$/m);
    });

    it('refuses an unknown status and a goal that does not exist, with one sentence each', async () => {
      assertOneSentence(await cli(dir, ['optimizations', 'set-status', 'hero', 'archived']), 'optimizations', /running, paused or ended/);
      assertOneSentence(await cli(dir, ['optimizations', 'create', 'other', '--variations', 'a,b', '--goals', 'missing-goal']), 'optimizations', /"missing-goal"/);
    });
  });

  describe('help and bad input', () => {
    let dir: string;
    before(() => { dir = testDataDir(); });
    after(() => removeTestDir(dir));

    for (const command of [[], ['serve'], ['init'], ['keys'], ['goals'], ['optimizations']]) {
      it(`prints usage for ${['closeloop', ...command].join(' ')} --help and exits 0`, async () => {
        const res = await runCli([...command, '--help']);
        assert.deepEqual([res.code, res.stderr], [0, '']);
        assert.match(res.stdout, /^Usage:/);
        if (command.length > 0) assert.match(res.stdout, new RegExp(`closeloop ${command[0]}`));
      });
    }

    it('refuses an unknown flag with one sentence and exit code 2', async () => {
      const res = await cli(dir, ['keys', 'list', '--bogus']);
      assertOneSentence(res, 'keys', /'--bogus'/);
      assert.equal(res.code, 2);
      assertOneSentence(await cli(dir, ['init', '--nope']), 'init', /'--nope'/);
    });

    it('refuses a flag given without its value with one sentence', async () => {
      assertOneSentence(await runCli(['goals', 'list', '--workspace', '--data', dir]), 'goals', /--workspace/);
      assertOneSentence(await cli(dir, ['keys', 'create', '--name']), 'keys', /--name/);
    });

    it('refuses an unknown command with one line naming the commands', async () => {
      assertOneSentence(await runCli(['frobnicate']), '', /"frobnicate".*init/);
    });

    it('refuses the names of built-in object members as unknown commands, not with a crash', async () => {
      for (const name of ['constructor', 'toString', '__proto__']) assertOneSentence(await runCli([name]), '', new RegExp(`"${name}".*init`));
    });

    it('says there is no workspace yet when a command needs one', async () => {
      assertOneSentence(await cli(dir, ['goals', 'list']), 'goals', /closeloop init/);
    });
  });

  describe('the curl examples init prints', () => {
    it('work against a real server started on the same data folder', async () => {
      const dir = testDataDir();
      let server: RealServer | null = null;
      try {
        const out = await json(dir, ['init', '--workspace', 'demo'], at(T0));
        server = await startRealServer({ dataDir: dir, env: at(T0) });
        const answers: Record<string, { status: number; body: any }> = {};
        for (const [dialect, command] of Object.entries(out.curl as Record<string, string>)) {
          assert.ok(command.includes('http://127.0.0.1:8080'), command);
          answers[dialect] = await curl(command.split('http://127.0.0.1:8080').join(server.url));
        }
        const optimizeBody = JSON.parse(/--data-raw '([^']*)'/.exec(out.curl.optimize)![1]!);
        assert.deepEqual(answers, {
          native: { status: 200, body: { ok: true, ids: [answers.native!.body.ids[0]], duplicates: 0 } },
          optimize: { status: 200, body: optimizeBody },
          convultra: { status: 200, body: { success: true, event_id: answers.convultra!.body.event_id } },
          webanalyzer: { status: 200, body: { ok: true, event_id: answers.webanalyzer!.body.event_id } },
        });
        assert.equal(await server.stop(), 0);
        server = null;
      } finally {
        await server?.kill();
        removeTestDir(dir);
      }
    });
  });
});

/** Runs a printed curl command line with the real curl; -w appends the status code. */
async function curl(command: string): Promise<{ status: number; body: any }> {
  const child = spawn('bash', ['-c', `${command} -sS --max-time 20 -w '\\n%{http_code}'`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, stderr);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)) };
}
