/**
 * The PII scan: emails, phone numbers and names sent every way a client can send them — in
 * user_data, properties, payloads, nested items, free text, values a refusal quotes, bodies that
 * are not JSON and query strings, through every dialect, in events that are stored and events
 * that are refused — through the real process at debug log level. Afterwards no raw email or
 * phone (as sent, lowercased, normalised or URL-encoded) is in the data folder's files (the
 * SQLite database with its -wal and -shm, read as bytes, running and stopped), the logs, any error
 * answer or any admin API answer.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startRealServer, type RealServer } from '../helpers/server.js';
import { T0, seed, type Fixture, type Send } from './endpoints.js';
import { figure } from './profile.js';
import { hashPii } from '../../src/ingest/index.js';

const ADMIN_TOKEN = 'cl_admin_pii_test_0123456789abcdefghijklmnopq';

const EMAIL = 'Jane.Doe+Closeloop@Example.COM';
const EMAIL_2 = 'zebulon.quixotefield@mail.example.org';
const PHONE = '+1 (415) 555-0123';
const PHONE_2 = '+44 20 7946 0958';
const FIRST = 'Zebulon';
const LAST = 'Quixotefield';

/** Each fixture and the forms it must not be found in: as sent, lowercased, normalised, URL-encoded. */
const FORBIDDEN: { what: string; forms: string[] }[] = [
  { what: 'email', forms: [EMAIL, EMAIL.toLowerCase(), encodeURIComponent(EMAIL)] },
  { what: 'email 2', forms: [EMAIL_2, encodeURIComponent(EMAIL_2)] },
  { what: 'phone', forms: [PHONE, '14155550123', '4155550123', '+14155550123', '415-555-0123', '415 555 0123', '(415) 555-0123', encodeURIComponent(PHONE)] },
  { what: 'phone 2', forms: [PHONE_2, '442079460958', '+442079460958', '2079460958', '20 7946 0958', encodeURIComponent(PHONE_2)] },
  { what: 'last name', forms: [LAST] },
];

/** Every forbidden form found in `text` (case aside), each with some context. */
function findPii(text: string): string[] {
  const lower = text.toLowerCase();
  const out: string[] = [];
  for (const f of FORBIDDEN) {
    for (const form of f.forms) {
      const at = lower.indexOf(form.toLowerCase());
      if (at >= 0) out.push(`${f.what} as "${form}": …${JSON.stringify(text.slice(Math.max(0, at - 60), at + form.length + 30))}…`);
    }
  }
  return out;
}

interface Sent { label: string; status: number; raw: string }

/** A real server at debug level, its data folder, and every answer it gave. */
async function session(run: (ctx: { f: Fixture; send: Send; post: (label: string, url: string, headers: Record<string, string>, body: unknown) => Promise<Sent> }) => Promise<void>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-pii-test-'));
  const server: RealServer = await startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN, CLOSELOOP_NOW: String(T0), CLOSELOOP_LOG_LEVEL: 'debug' } });
  const sent: Sent[] = [];
  const answers: Sent[] = [];
  const leaks: string[] = [];
  try {
    const send: Send = async (method, url, headers, body) => {
      const res = await fetch(`${server.url}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const raw = await res.text();
      let parsed: unknown = raw;
      try { parsed = JSON.parse(raw); } catch { /* not JSON */ }
      return { status: res.status, body: parsed, raw };
    };
    const f = await seed(send, ADMIN_TOKEN, 'pii');
    const post = async (label: string, url: string, headers: Record<string, string>, body: unknown) => {
      const res = await send('POST', url, { 'content-type': 'application/json', ...headers }, typeof body === 'string' ? body : JSON.stringify(body));
      const s = { label, status: res.status, raw: res.raw };
      sent.push(s);
      return s;
    };
    await run({ f, send, post });

    // What the admin API shows of it all — and replaying the quarantine runs it all again.
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const replay = await send('POST', `/admin/v1/workspaces/${f.ws}/rejections/replay`, { ...admin, 'content-type': 'application/json' }, '{}');
    answers.push({ label: 'replay', status: replay.status, raw: replay.raw });
    const run2 = await send('POST', `/admin/v1/workspaces/${f.ws}/attribution/run`, { ...admin, 'content-type': 'application/json' }, '{}');
    answers.push({ label: 'attribution run', status: run2.status, raw: run2.raw });
    const events = await send('GET', `/admin/v1/workspaces/${f.ws}/events?limit=1000`, admin);
    const keys = (events.body.events as { idempotencyKey: string | null; visitorId: string | null }[]);
    const urls = ['rejections?limit=1000', 'data-quality', 'attribution/runs', `visitors/${f.visitorId}`,
      ...keys.filter((e) => e.idempotencyKey !== null && !e.idempotencyKey.startsWith('collect:')).map((e) => `conversions/${encodeURIComponent(e.idempotencyKey!)}`),
      ...keys.filter((e) => e.visitorId !== null).map((e) => `visitors/${encodeURIComponent(e.visitorId!)}`)];
    answers.push({ label: 'GET events', status: events.status, raw: events.raw });
    for (const url of [...new Set(urls)]) {
      const res = await send('GET', `/admin/v1/workspaces/${f.ws}/${url}`, admin);
      answers.push({ label: `GET ${url}`, status: res.status, raw: res.raw });
    }

    const scanFiles = (when: string) => {
      for (const name of fs.readdirSync(dataDir, { recursive: true }) as string[]) {
        const file = path.join(dataDir, name);
        // While the server runs, a file may go between listing and reading (a snapshot's temporary
        // file, renamed into place once written): what it became is read in the scan after the stop.
        let bytes: Buffer;
        try {
          if (!fs.statSync(file).isFile()) continue;
          bytes = fs.readFileSync(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' && when === 'running') continue;
          throw err;
        }
        for (const found of findPii(bytes.toString('latin1'))) leaks.push(`${name} (${when}): ${found}`);
      }
    };
    scanFiles('running');
    assert.equal(await server.stop(), 0, server.stderr());
    scanFiles('stopped');
    const logs = server.stdout() + server.stderr();
    for (const found of findPii(logs)) leaks.push(`logs: ${found}`);
    for (const s of sent) if (s.status >= 300) for (const found of findPii(s.raw)) leaks.push(`error answer to ${s.label} (${s.status}): ${found}`);
    for (const a of answers) {
      assert.ok(a.status < 300, `${a.label}: ${a.status} ${a.raw.slice(0, 300)}`);
      for (const found of findPii(a.raw)) leaks.push(`admin answer ${a.label}: ${found}`);
    }
    const files = (fs.readdirSync(dataDir) as string[]).join(', ');
    return { sent, answers, leaks, files, logBytes: logs.length };
  } finally {
    if (server.child.exitCode === null) await server.kill();
    if (path.basename(dataDir).includes('test')) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const note = `call ${PHONE} or write to ${EMAIL}`;

describe('PII (real process, debug logs)', () => {
  it('keeps no raw email or phone in the data folder, the logs, error answers or admin answers', async () => {
    const result = await session(async ({ f, post }) => {
      const bearer = { authorization: `Bearer ${f.serverKey}` };
      const apiKey = { authorization: `ApiKey ${f.serverKey}` };
      let n = 0;
      for (const broken of [false, true]) {
        const tag = broken ? 'refused' : 'stored';
        const badTime = broken ? { timestamp: 'yesterday' } : {};
        const native = () => ({
          type: 'conversion', name: f.goalName, visitorId: f.visitorId, idempotencyKey: `pii-native-${tag}-${++n}`, ...badTime,
          properties: { email: EMAIL, phone: PHONE, note, contact_email: EMAIL_2, mobile: PHONE_2, billingPhone: '4155550123' },
          userData: { email: EMAIL, phone: PHONE, firstName: FIRST, lastName: LAST, city: 'Fairbanks', postalCode: '99701', country: 'US' },
        });
        await post(`native ${tag}`, '/v1/events', bearer, native());
        await post(`native batch ${tag}`, '/v1/events', bearer, { events: [native(), native()] });
        const convultra = () => ({
          event_type: 'purchase', session_id: 'pii-session', ...badTime,
          properties: { order_id: `pii-cv-${tag}-${++n}`, value: 10, currency: 'USD', customer_email: EMAIL, phone: PHONE, note, items: [{ sku: 'x', buyer: EMAIL, tel: PHONE_2 }] },
          user_data: { email: EMAIL, phone: PHONE, first_name: FIRST, last_name: LAST },
          context: { ip: '203.0.113.7' },
        });
        await post(`convultra ${tag}`, '/v1/track', bearer, convultra());
        await post(`convultra ?api_key= ${tag}`, `/v1/track?api_key=${f.serverKey}&email=${encodeURIComponent(EMAIL)}&phone=${encodeURIComponent(PHONE)}`, {}, convultra());
        await post(`convultra batch ${tag}`, '/v1/track/batch', bearer, { events: [convultra(), convultra()] });
        const webanalyzer = () => ({ name: broken ? '' : 'purchase', payload: { email: EMAIL, phone: PHONE, note: note.slice(0, 200), order: `pii-wa-${tag}-${++n}` } });
        await post(`webanalyzer ${tag}`, `/api/v1/websites/${f.ws}/track`, bearer, webanalyzer());
        await post(`webanalyzer batch ${tag}`, `/api/v1/websites/${f.ws}/track/batch`, bearer, { events: [webanalyzer(), webanalyzer()] });
        const optimize = { customerId: f.ws, eventName: f.goalName, userDomain: 'crm', userId: `pii-user-${++n}`, actionId: `pii-opt-${tag}-${n}`, actionTimestamp: broken ? EMAIL : T0 - 60_000, value: 5, email: EMAIL, phone: PHONE };
        await post(`optimize ${tag}`, '/event', apiKey, optimize);
        const beacon = {
          key: f.browserKey, visitorId: '550e8400-e29b-41d4-a716-4466554400aa', sentAt: T0,
          events: [{ id: `pii_${tag}_${++n}`, type: 'custom', name: broken ? undefined : f.goalName, time: T0 - 100, properties: { email: EMAIL, phone: PHONE, note } }],
        };
        await post(`collect ${tag}`, '/collect', { 'content-type': 'text/plain' }, beacon);
      }
      // Values a refusal quotes back.
      await post('native, an email as the timestamp', '/v1/events', bearer, { type: 'pageview', visitorId: 'v', timestamp: EMAIL });
      await post('convultra, a phone as the timestamp', '/v1/track', bearer, { event_type: 'purchase', timestamp: PHONE });
      await post('optimize, an email as the path\'s customer', `/customer/${f.ws}/event`, apiKey, { customerId: EMAIL, eventName: 'x', userDomain: 'crm', userId: 'u', actionId: 'a', actionTimestamp: T0 });
      await post('optimize, an email as another workspace', '/event', apiKey, { customerId: EMAIL, eventName: 'x', userDomain: 'crm', userId: 'u', actionId: 'a', actionTimestamp: T0 });
      // Bodies that cannot be read are kept as text, and the parser's message quotes them.
      await post('native, not JSON', '/v1/events', bearer, `{"type":"conversion","userData":{"email":"${EMAIL}","phone":"${PHONE}"}, "note": "${note}"`);
      await post('native, not JSON near the email', '/v1/events', bearer, `{"a": ${EMAIL}, "b": "${PHONE}"}`);
      await post('convultra, not JSON', '/v1/track', bearer, `{event_type: purchase, user_data: {email: ${EMAIL}, phone: ${PHONE}}`);
      await post('optimize, not JSON', '/event', apiKey, `{customerId: '${f.ws}', userId: '${EMAIL}', phone: '${PHONE}'`);
      await post('a refused key', `/v1/track?api_key=cl_sk_nope&email=${encodeURIComponent(EMAIL)}`, {}, { event_type: 'purchase', user_data: { email: EMAIL } });
    });
    const { sent, answers, leaks, files, logBytes } = result;
    const refused = sent.filter((s) => s.status >= 400).length;
    figure('PII scan', `${sent.length} requests carrying 2 emails, 2 phone numbers and a name in every field (${sent.length - refused} stored, ${refused} refused) at debug level: ${leaks.length} raw copies in ${files}, ${logBytes} bytes of logs, ${refused} error answers and ${answers.length} admin answers`);
    assert.ok(sent.filter((s) => s.status === 200).length >= 9 && refused >= 9, `both stored and refused events: ${sent.map((s) => `${s.label} ${s.status}`).join('; ')}`);
    assert.deepEqual(leaks, []);
  });

  it('keeps no raw email or phone from a page address, a referrer or a user agent', async () => {
    const { leaks } = await session(async ({ f, post }) => {
      const page = `https://shop.example/thanks?email=${encodeURIComponent(EMAIL)}&phone=${encodeURIComponent(PHONE)}`;
      const bearer = { authorization: `Bearer ${f.serverKey}` };
      await post('native', '/v1/events', bearer, { type: 'pageview', visitorId: 'v1', url: page, referrer: `https://mail.example/?to=${EMAIL}` });
      await post('convultra', '/v1/track', bearer, { event_type: 'signup', session_id: 's', context: { page_url: page, referrer: page, user_agent: `Agent/1 (${EMAIL})` } });
      await post('webanalyzer', `/api/v1/websites/${f.ws}/track`, bearer, { name: 'signup', url: page, referrer: page });
      await post('collect', '/collect', { 'content-type': 'text/plain', 'user-agent': `Agent/1 (${PHONE})` }, { key: f.browserKey, visitorId: '550e8400-e29b-41d4-a716-4466554400bb', sentAt: T0, events: [{ id: 'pii_page_01', type: 'pageview', time: T0, url: page, referrer: page }] });
    });
    assert.deepEqual(leaks, []);
  });

  it('keeps no raw email or phone used as an identifier (userId, visitorId, sessionId, idempotency key), and finds them by the raw value', async () => {
    const found: Record<string, unknown> = {};
    let f0!: Fixture;
    const { leaks } = await session(async ({ f, send, post }) => {
      f0 = f;
      const bearer = { authorization: `Bearer ${f.serverKey}` };
      const apiKey = { authorization: `ApiKey ${f.serverKey}` };
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      // A view by a visitor whose id is an email, who then signs in as that email on the CRM domain…
      await post('native view', '/v1/events', bearer, { type: 'view', visitorId: EMAIL, optimization: f.optimization, variation: f.variations[1], timestamp: T0 + 10_000 });
      await post('native identify', '/v1/events', bearer, { type: 'identify', visitorId: EMAIL, userDomain: 'crm', userId: EMAIL.toLowerCase(), timestamp: T0 + 20_000 });
      // …and converts off-site, keyed by the email, the phone and an order key holding the email.
      found.first = (await post('optimize', '/event', apiKey, { customerId: f.ws, eventName: f.goalName, userDomain: 'crm', userId: EMAIL, actionId: `order-1:${EMAIL_2}`, actionTimestamp: T0 + 30_000 })).status;
      found.conflict = await post('optimize, same actionId, other user', '/event', apiKey, { customerId: f.ws, eventName: f.goalName, userDomain: 'crm', userId: 'someone-else', actionId: `order-1:${EMAIL_2}`, actionTimestamp: T0 + 30_000 });
      await post('native', '/v1/events', bearer, { type: 'conversion', name: f.goalName, sessionId: PHONE, userDomain: 'crm', userId: PHONE_2, idempotencyKey: EMAIL_2, timestamp: T0 + 40_000 });
      await post('convultra', '/v1/track', bearer, { event_type: 'purchase', user_id: EMAIL, session_id: PHONE, properties: { order_id: PHONE_2, value: 3 }, timestamp: T0 + 45_000 });
      await send('POST', `/admin/v1/workspaces/${f.ws}/attribution/run`, { ...admin, 'content-type': 'application/json' }, '{}');
      // Every lookup by identifier takes the raw value (and logs only its hash).
      const get = async (url: string) => (await send('GET', `/admin/v1/workspaces/${f.ws}/${url}`, admin)).body as Record<string, unknown>;
      found.conversion = await get(`conversions/${encodeURIComponent(`order-1:${EMAIL_2}`)}`);
      found.byPhoneKey = await get(`conversions/${encodeURIComponent(PHONE_2)}`);
      found.userJourney = await get(`users/crm/${encodeURIComponent(EMAIL)}`);
      found.visitorJourney = await get(`visitors/${encodeURIComponent(EMAIL)}`);
      found.events = await get(`events?userId=${encodeURIComponent(PHONE_2)}`);
      found.missing = await send('GET', `/admin/v1/workspaces/${f.ws}/conversions/${encodeURIComponent('nobody@example.net')}`, admin);
    });
    assert.deepEqual(leaks, []);
    assert.equal(found.first, 200);
    const conflict = found.conflict as Sent;
    assert.equal(conflict.status, 409, conflict.raw);
    assert.match(conflict.raw, /kept as its hash/);
    const conversion = found.conversion as { outcome: string; attributions: { optimization: string; variation: string }[] };
    // The conversion (userId = the email, any case) joined the visitor (visitorId = the email) through the identity.
    assert.equal(conversion.outcome, 'attributed', JSON.stringify(conversion));
    assert.deepEqual(conversion.attributions.map((a) => [a.optimization, a.variation]), [[f0.optimization, f0.variations[1]]]);
    assert.equal((found.byPhoneKey as { conversion: { sessionId: string } }).conversion.sessionId, hashPii('phone', PHONE));
    assert.equal((found.userJourney as { visitors: unknown[] }).visitors.length, 1);
    assert.ok(((found.visitorJourney as { events: unknown[] }).events).length >= 3, JSON.stringify(found.visitorJourney).slice(0, 500));
    assert.equal((found.events as { events: unknown[] }).events.length, 1);
    const missing = found.missing as { status: number; raw: string };
    assert.equal(missing.status, 404);
    assert.ok(!missing.raw.includes('nobody@example.net'), missing.raw);
  });
});
