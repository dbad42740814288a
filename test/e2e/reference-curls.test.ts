/**
 * Acceptance: the curl examples in the vendor docs (reference/*.txt) work verbatim against a
 * real closeloop. The commands are cut out of the docs by a parser, only the key placeholder and
 * the vendor host are replaced, and the real `curl` binary runs them.
 *
 * Times: the examples carry fixed timestamps (2020, 2022, 2024), and Optimize refuses
 * conversions older than 2 days, Convultra older than 7, and all of them more than 60 s in the
 * future. One pinned instant cannot satisfy 2020, 2022 and 2024 together without loosening the
 * Optimize compatibility profile (maxEventAgeDays), which is itself under test here. So each
 * example runs on a server whose clock starts (CLOSELOOP_NOW) one minute after the example's own
 * time, with the workspaces at their default settings. The two Optimize templates both use
 * customerId "your-account-id" and actionId "unique-conversion-id" with different event names:
 * on one store the second would rightly be a 409, so each gets its own server and data folder.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import JSON5 from 'json5';
import { adminRequest, ROOT, startRealServer, type RealServer } from '../helpers/server.js';

// ../shared/ lies beside the checkout, in development and in CI alike.
const REFERENCE = path.join(ROOT, '..', 'shared', 'reference');
const ADMIN_TOKEN = 'cl_admin_reference_curls_test_0123456789abcdef';
const KEY_PLACEHOLDERS = ['${apiKey}', 'AbCdEf123456', 'YOUR_SERVER_API_KEY', 'YOUR_API_KEY'];
const VENDOR_HOSTS = ['https://log.intellimize.co', 'https://your-endpoint.com', 'https://webanalyzerapp.com'];
const MINUTE = 60_000;

const FILES = {
  guide: 'optimize-offline-conversion-tracking-guide.txt',
  offsite: 'optimize-offsite-conversions-api.txt',
  convultra: 'convultra-server-api.txt',
  webanalyzer: 'webanalyzer-measurement-protocol.txt',
} as const;
type DocName = keyof typeof FILES;

const readDoc = (doc: DocName): string => fs.readFileSync(path.join(REFERENCE, FILES[doc]), 'utf8');

// ---- parsing the docs ------------------------------------------------------------------------

/**
 * Cuts the curl commands out of a doc. A command starts at a line beginning with `curl` (or
 * `$curl`, a shell prompt) and goes on while a quote is open or the line ends with `\`. A `>`
 * prompt at the start of a continuation line is dropped, and so is text the page glued right
 * after the closing quote of the last line ("}'Request Body").
 */
function extractCurls(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^\s*\$?(curl\s.*)$/.exec(lines[i]!);
    if (head === null) continue;
    const prompted = /^\s*\$curl/.test(lines[i]!);
    const parts: string[] = [];
    let quote: '"' | "'" | null = null;
    for (let j = i; j < lines.length; j++) {
      let line = j === i ? head[1]! : lines[j]!;
      if (j > i && prompted) line = line.replace(/^>/, '');
      let lastClose = -1;
      for (let k = 0; k < line.length; k++) {
        const c = line[k]!;
        if (quote === null) {
          if (c === '\\') k++;
          else if (c === '"' || c === "'") quote = c;
        } else if (c === quote) {
          quote = null;
          lastClose = k;
        } else if (c === '\\' && quote === '"') k++;
      }
      if (quote !== null || /\\\s*$/.test(line)) {
        parts.push(line);
        continue;
      }
      const rest = lastClose >= 0 ? line.slice(lastClose + 1) : '';
      parts.push(rest.trim() !== '' && !/^\s/.test(rest) ? line.slice(0, lastClose + 1) : line.trimEnd());
      i = j;
      break;
    }
    out.push(parts.join('\n'));
  }
  return out;
}

/** The body a curl command sends (-d / --data-raw '…'). */
function dataOf(command: string): string {
  const m = /(?:-d|--data-raw)\s+'([^']*)'/.exec(command);
  assert.ok(m, `no -d '…' in:\n${command}`);
  return m[1]!;
}

/** The HTTP request example of the guide that posts to /customer/{id}/event (not a curl command). */
function customerPathExample(text: string): { path: string; authorization: string; body: string } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^POST \/customer\/[^/\s]+\/event/.test(l));
  assert.ok(start >= 0, 'the guide holds a POST /customer/{customerId}/event example');
  const requestPath = lines[start]!.split(/\s+/)[1]!;
  const auth = lines.slice(start, start + 5).find((l) => l.startsWith('Authorization:'))!.replace(/^Authorization:\s*/, '');
  const open = lines.findIndex((l, k) => k > start && l.trim() === '{');
  const close = lines.findIndex((l, k) => k > open && l.startsWith('}'));
  return { path: requestPath, authorization: auth, body: ['{', ...lines.slice(open + 1, close), '}'].join('\n') };
}

// ---- running them ----------------------------------------------------------------------------

/** The command with the real key and the real server in place of the doc's placeholders. */
function localize(command: string, key: string, url: string): string {
  let out = command;
  for (const p of KEY_PLACEHOLDERS) out = out.split(p).join(key);
  for (const h of VENDOR_HOSTS) out = out.split(h).join(url);
  return out;
}

/** Runs a shell command line with the real curl; the status code is appended by -w. */
async function runCurl(command: string): Promise<{ status: number; body: any; text: string }> {
  const line = `${command} -sS --max-time 20 -w '\\n%{http_code}'`;
  const child = spawn('bash', ['-c', line], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `curl failed (${code}): ${stderr}\n${line}`);
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the assertion on it will show the text
  }
  return { status: Number(stdout.slice(cut + 1)), body, text };
}

const admin = (server: RealServer, method: string, url: string, body?: unknown) => adminRequest(server, ADMIN_TOKEN, method, url, body);

interface Docs {
  server: RealServer;
  /** Server key per workspace id. */
  keys: Record<string, string>;
  stop(): Promise<void>;
}

/** A real server on a fresh data folder, its clock pinned at `now` (or the real clock), with these workspaces. */
async function serverWith(now: number | null, workspaces: string[]): Promise<Docs> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-curls-test-'));
  const removeDir = () => { if (path.basename(dataDir).includes('test')) fs.rmSync(dataDir, { recursive: true, force: true }); };
  let server: RealServer | null = null;
  try {
    server = await startRealServer({
      dataDir, env: { CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN, ...(now !== null ? { CLOSELOOP_NOW: String(now) } : {}) },
    });
    const keys: Record<string, string> = {};
    for (const id of workspaces) {
      await admin(server, 'POST', '/workspaces', { id });
      keys[id] = (await admin(server, 'POST', `/workspaces/${id}/keys`, { name: 'reference docs', kind: 'server' })).key as string;
    }
    const running = server;
    return {
      server: running, keys,
      async stop() {
        try {
          assert.equal(await running.stop(), 0);
        } finally {
          removeDir();
        }
      },
    };
  } catch (err) {
    await server?.kill();
    removeDir();
    throw err;
  }
}

/** The workspace a doc example names: its customerId, its website id, or none. */
function workspaceOf(command: string): string | null {
  return /customerId"?\s*:\s*"([^"]+)"/.exec(command)?.[1] ?? /\/websites\/([^/\s]+)\//.exec(command)?.[1] ?? null;
}

const optimizeTime = (command: string): number => Number(/actionTimestamp"?\s*:\s*(\d+)/.exec(command)![1]);

// ---- the tests -------------------------------------------------------------------------------

const curls = Object.fromEntries((Object.keys(FILES) as DocName[]).map((d) => [d, extractCurls(readDoc(d))])) as Record<DocName, string[]>;

describe('reference curl examples', () => {
  it('finds every curl example the vendor docs hold', () => {
    assert.deepEqual(Object.fromEntries(Object.entries(curls).map(([d, list]) => [d, list.length])), { guide: 2, offsite: 1, convultra: 2, webanalyzer: 2 });
    for (const c of Object.values(curls).flat()) {
      assert.match(c, /^curl /);
      assert.doesNotMatch(c, /(^|\n)[>$]/, 'no shell prompts left');
      assert.match(c, /'\s*$/, 'ends with the closing quote of its body');
      assert.ok(KEY_PLACEHOLDERS.some((p) => c.includes(p)), `a key placeholder in:\n${c}`);
      assert.ok(VENDOR_HOSTS.some((h) => c.includes(h)), `a vendor host in:\n${c}`);
    }
  });

  describe('Optimize: the offline conversion tracking guide', () => {
    const [template, example] = curls.guide;

    it('answers the curl template (your-account-id, May 2022) with the submitted data', async () => {
      assert.equal(workspaceOf(template!), 'your-account-id');
      const docs = await serverWith(optimizeTime(template!) + MINUTE, ['your-account-id']);
      try {
        const res = await runCurl(localize(template!, docs.keys['your-account-id']!, docs.server.url));
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, JSON5.parse(dataOf(template!)));
      } finally {
        await docs.stop();
      }
    });

    describe('the account 123456789 examples (January 2020)', () => {
      let docs: Docs;
      before(async () => { docs = await serverWith(optimizeTime(example!) + MINUTE, ['123456789']); });
      after(async () => { await docs.stop(); });

      it('answers the curl example with the submitted data and stores the conversion once', async () => {
        assert.equal(workspaceOf(example!), '123456789');
        const command = localize(example!, docs.keys['123456789']!, docs.server.url);
        const first = await runCurl(command);
        assert.equal(first.status, 200, first.text);
        assert.deepEqual(first.body, {
          customerId: '123456789', apiName: 'application-accepted', userDomain: 'salesforce', userId: '72349876',
          actionId: '23823940', actionTimestamp: 1578316150000, value: 149.99,
        });
        const again = await runCurl(command);
        assert.deepEqual([again.status, again.body], [200, first.body], 'a retry is answered like the first request');
        const { events } = await admin(docs.server, 'GET', '/workspaces/123456789/events');
        assert.deepEqual(events.map((e: any) => [e.type, e.name, e.occurredAt, e.userDomain, e.userId, e.idempotencyKey, e.value, e.source]), [
          ['conversion', 'application-accepted', 1578316150000, 'salesforce', '72349876', '23823940', 149.99, 'optimize'],
        ]);
      });

      it('refuses the /customer/123456789/event example, whose actionTimestamp is in seconds, with a 400 that says so', async () => {
        const ex = customerPathExample(readDoc('guide'));
        assert.equal(ex.path, '/customer/123456789/event');
        // The HTTP example leaves out Content-Type (as it leaves out Content-Length); a client sends one.
        const command = localize(`curl -X POST '${VENDOR_HOSTS[0]}${ex.path}' -H 'Authorization: ${ex.authorization}' -H 'Content-Type: application/json' --data-raw '${ex.body}'`,
          docs.keys['123456789']!, docs.server.url);
        const res = await runCurl(command);
        assert.equal(res.status, 400, res.text);
        assert.deepEqual(res.body, { error: 'timestamp_in_seconds', field: 'actionTimestamp', message: res.body.message });
        assert.match(res.body.message, /actionTimestamp 1578316150 looks like UNIX seconds/);
        assert.match(res.body.message, /milliseconds/);
      });
    });

    it('refuses the May 2022 example on the real clock: actionTimestamp is older than the 2-day limit', async () => {
      const docs = await serverWith(null, ['your-account-id']);
      try {
        const res = await runCurl(localize(template!, docs.keys['your-account-id']!, docs.server.url));
        assert.equal(res.status, 400, res.text);
        assert.deepEqual(res.body, { error: 'timestamp_too_old', field: 'actionTimestamp', message: res.body.message });
        assert.match(res.body.message, /^actionTimestamp 2022-05-25T21:30:58\.136Z is older than .*2 days/);
      } finally {
        await docs.stop();
      }
    });
  });

  describe('Optimize: the off-site conversions API', () => {
    it('answers the $curl example (your-account-id, May 2022) with the submitted data', async () => {
      const [command] = curls.offsite;
      assert.equal(workspaceOf(command!), 'your-account-id');
      const docs = await serverWith(optimizeTime(command!) + MINUTE, ['your-account-id']);
      try {
        const res = await runCurl(localize(command!, docs.keys['your-account-id']!, docs.server.url));
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, {
          customerId: 'your-account-id', eventName: 'your_custom_goal_event_name', userDomain: 'your-user-domain',
          userId: 'user-id-from-client-side', actionId: 'unique-conversion-id', actionTimestamp: 1653514258136, value: 149.99,
        });
      } finally {
        await docs.stop();
      }
    });
  });

  describe('Convultra and Web Analyzer (January 2024)', () => {
    const NOW = Date.parse('2024-01-15T14:30:45Z') + MINUTE;
    /** evt_<received ms>_<suffix>; the pinned clock runs on from NOW while the tests run. */
    const assertEventId = (id: unknown) => {
      const ms = Number(/^evt_(\d+)_[0-9a-z]{6,}$/.exec(String(id))?.[1]);
      assert.ok(ms >= NOW && ms < NOW + MINUTE, `an evt_<ms>_<suffix> id received just after ${NOW}: ${String(id)}`);
    };
    let docs: Docs;
    before(async () => { docs = await serverWith(NOW, ['convultra-docs', '1']); });
    after(async () => { await docs.stop(); });

    it('answers the Convultra track example with success and an evt_ id, and keeps no raw PII', async () => {
      const [track] = curls.convultra;
      assert.equal(workspaceOf(track!), null);
      const res = await runCurl(localize(track!, docs.keys['convultra-docs']!, docs.server.url));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { success: true, event_id: res.body.event_id });
      assertEventId(res.body.event_id);
      const { events } = await admin(docs.server, 'GET', '/workspaces/convultra-docs/events?name=purchase');
      const order = events.find((e: any) => e.idempotencyKey === 'ORD-12345');
      assert.deepEqual([order.occurredAt, order.sessionId, order.userId, order.value, order.currency, order.context.ip],
        [Date.parse('2024-01-15T14:30:45Z'), 'sess_abc123', 'user_12345', 99.99, 'USD', '203.0.113.0']);
      assert.doesNotMatch(JSON.stringify(events), /customer@example\.com|\+1234567890/);
    });

    it('answers the Convultra batch example with an event id per event', async () => {
      const [, batch] = curls.convultra;
      const res = await runCurl(localize(batch!, docs.keys['convultra-docs']!, docs.server.url));
      assert.equal(res.status, 200, res.text);
      const ids: string[] = res.body.event_ids;
      assert.deepEqual(res.body, {
        success: true, event_id: ids[0], event_ids: ids,
        results: [{ index: 0, success: true, event_id: ids[0] }, { index: 1, success: true, event_id: ids[1] }],
      });
      assert.equal(new Set(ids).size, 2);
      for (const id of ids) assertEventId(id);
    });

    it('answers the Web Analyzer track example for website 1 with an integer event id', async () => {
      const [track] = curls.webanalyzer;
      assert.equal(workspaceOf(track!), '1');
      const res = await runCurl(localize(track!, docs.keys['1']!, docs.server.url));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { ok: true, event_id: res.body.event_id });
      assert.ok(Number.isInteger(res.body.event_id));
    });

    it('answers the Web Analyzer batch example with processed 3 and three event ids', async () => {
      const [, batch] = curls.webanalyzer;
      assert.equal(workspaceOf(batch!), '1');
      const res = await runCurl(localize(batch!, docs.keys['1']!, docs.server.url));
      assert.equal(res.status, 200, res.text);
      const ids: number[] = res.body.event_ids;
      assert.deepEqual(res.body, { ok: true, processed: 3, event_ids: ids });
      assert.equal(ids.length, 3);
      assert.ok(ids.every((id, i) => Number.isInteger(id) && (i === 0 || id > ids[i - 1]!)), `increasing ids: ${ids.join(', ')}`);
      const { events } = await admin(docs.server, 'GET', '/workspaces/1/events');
      assert.deepEqual(events.slice(0, 3).map((e: any) => [e.id, e.name, e.visitorId]).reverse(), [
        [ids[0], 'purchase', '550e8400-e29b-41d4-a716-446655440000'],
        [ids[1], 'purchase', '7c9e6679-7425-40de-944b-e07fc1f90ae7'],
        [ids[2], 'signup', null],
      ]);
    });
  });
});
