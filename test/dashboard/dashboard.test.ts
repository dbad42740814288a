import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { runCli } from '../helpers/server.js';
import { ADMIN_TOKEN, T0, shot, signIn, skipReason, startHarness, tableText, type Harness } from './harness.js';

const MIN = 60_000;
const DAY = 86_400_000;
const WS = 'shop';

/**
 * A small experiment, set up three days before T0 with the CLI (goals must exist before the
 * conversions they count): ten visitors over three days, split between control and bold, each
 * identified as a salesforce user; three bold users and one control user convert in the session
 * of their view, and one more bold user through the Optimize dialect. Two conversions are not
 * attributed: one names a user nobody identified as (unknown_user), one comes two hours after its
 * visitor's last activity (session_expired).
 */
async function prepare(dataDir: string): Promise<void> {
  const env = { CLOSELOOP_NOW: new Date(T0 - 3 * DAY).toISOString() };
  for (const args of [
    ['init', '--workspace', WS, '--json'],
    ['goals', 'create', 'purchase', '--workspace', WS],
    ['optimizations', 'create', 'hero', '--name', 'Hero headline', '--variations', 'control,bold', '--goals', 'purchase', '--workspace', WS],
  ]) {
    const run = await runCli([...args, '--data', dataDir], env);
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
  }
}

async function seed(h: Harness): Promise<{ serverKey: string }> {
  await h.admin('PATCH', `/workspaces/${WS}`, { name: 'Shop' });
  const { key: serverKey } = await h.admin('POST', `/workspaces/${WS}/keys`, { name: 'backend', kind: 'server' });
  const viewAt = (i: number) => T0 - (2 - (i % 3)) * DAY - 40 * MIN + i * 1000;
  const browserEvents = [];
  for (let i = 0; i < 10; i++) {
    browserEvents.push({ type: 'view', visitorId: `v${i}`, optimization: 'hero', variation: i < 5 ? 'control' : 'bold', timestamp: viewAt(i) });
    browserEvents.push({ type: 'identify', visitorId: `v${i}`, userDomain: 'salesforce', userId: `u${i}`, timestamp: viewAt(i) + MIN });
  }
  browserEvents.push({ type: 'view', visitorId: 'late', optimization: 'hero', variation: 'bold', timestamp: T0 - 180 * MIN });
  await h.send(serverKey, browserEvents);
  await h.send(serverKey, [
    ...[1, 5, 6, 7].map((i) => ({ type: 'conversion', name: 'purchase', userDomain: 'salesforce', userId: `u${i}`, idempotencyKey: `deal-${i}`, value: 100 + i, timestamp: viewAt(i) + 10 * MIN })),
    { type: 'conversion', name: 'purchase', userDomain: 'salesforce', userId: 'nobody', idempotencyKey: 'deal-unknown', timestamp: T0 - 30 * MIN },
    { type: 'conversion', name: 'purchase', visitorId: 'late', idempotencyKey: 'deal-late', value: 50, timestamp: T0 - 60 * MIN },
  ]);
  // An Optimize-dialect conversion, so the events filter has two dialects to tell apart.
  const optimize = await fetch(`${h.server.url}/customer/${WS}/event`, {
    method: 'POST', headers: { authorization: `ApiKey ${serverKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ eventName: 'purchase', userDomain: 'salesforce', userId: 'u8', actionId: 'opt-8', actionTimestamp: T0 - 25 * MIN, value: 80 }),
  });
  assert.equal(optimize.status, 200);
  await h.admin('POST', `/workspaces/${WS}/attribution/run`);
  return { serverKey };
}

const pct = (r: number) => `${(r * 100).toFixed(2)} %`;
const p4 = (p: number | null) => (p === null ? '—' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));

// Code run inside the page is passed as a string: tests are type-checked without the DOM lib.
// (page.evaluate only: the dashboard's CSP forbids the eval that waitForFunction would need.)
const reason = skipReason();
if (reason !== false) process.stderr.write(`${reason}\n`);

describe('dashboard in Chromium', { skip: reason }, () => {
  let h: Harness;
  let serverKey: string;

  before(async () => {
    h = await startHarness(prepare);
    ({ serverKey } = await seed(h));
  });
  after(async () => { await h?.close(); });

  async function signedIn(viewport?: { width: number; height: number }): Promise<{ page: Page; errors: string[] }> {
    const { page, errors } = await h.open(viewport);
    await signIn(page);
    return { page, errors };
  }

  it('signs in with the admin token, refuses a wrong one, and lists the workspaces', async () => {
    const { page, errors } = await h.open();
    await page.goto('/');
    await page.getByLabel('Admin token').fill('cl_admin_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'closeloop refused this token' }).waitFor();
    await shot(page, 'sign-in');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('link', { name: /Shop/ }).waitFor();
    await shot(page, 'workspaces');
    await page.getByRole('link', { name: /Shop/ }).click();
    await page.getByRole('heading', { name: 'Optimizations' }).waitFor();
    const rows = await tableText(page, 'Optimizations');
    assert.deepEqual(rows.map((r) => r.slice(0, 4)), [['Hero headline (hero)', 'running', 'control (control), bold', 'purchase (primary)']]);
    assert.match(rows[0]![4]!, /^2026-01-12 12:00:0\dZ$/);
    await shot(page, 'optimizations');
    assert.deepEqual(errors, []);
  });

  it('shows per-variation results equal to the API\'s, the rate over time, and what the last run changed', async () => {
    const api = await h.admin('GET', `/workspaces/${WS}/optimizations/hero/results`);
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/optimizations/hero`);
    const rows = await tableText(page, 'Results for goal purchase');
    const [control, bold] = api.variations;
    assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
      ['control control', String(control.visitors), String(control.converters), pct(control.conversionRate), control.value.toFixed(2)],
      ['bold', String(bold.visitors), String(bold.converters), pct(bold.conversionRate), bold.value.toFixed(2)],
    ]);
    // bold's sixth visitor is the one whose conversion came after their session expired.
    assert.deepEqual([control.visitors, control.converters, bold.visitors, bold.converters], [5, 1, 6, 4]);
    const b = rows[1]!;
    assert.equal(b[5], `+${(bold.lift.absolute * 100).toFixed(2)} pp+${(bold.lift.relative * 100).toFixed(1)} %`);
    assert.equal(b[6], `${bold.lift.ci95[0] < 0 ? '−' : '+'}${Math.abs(bold.lift.ci95[0] * 100).toFixed(2)} pp to +${(bold.lift.ci95[1] * 100).toFixed(2)} pp`);
    assert.deepEqual(b.slice(7), [p4(bold.pValue), p4(bold.sequential.pValue), `${(bold.chanceToBeatControl * 100).toFixed(1)} %`]);
    await page.locator('.chart canvas').first().waitFor();
    await page.getByText('Run 1 (full)').waitFor();
    assert.match(await page.locator('.deltas').innerText(), /bold: \+4 attributed conversions\ncontrol: \+1 attributed conversion/);
    await shot(page, 'results');
    assert.deepEqual(errors, []);
  });

  it('warns of a sample ratio mismatch when the API flags one', async () => {
    await h.admin('POST', `/workspaces/${WS}/optimizations`, { key: 'skewed', variations: [{ key: 'a' }, { key: 'b' }], goals: ['purchase'] });
    await h.send(serverKey, Array.from({ length: 40 }, (_, i) => ({ type: 'view', visitorId: `s${i}`, optimization: 'skewed', variation: i < 38 ? 'a' : 'b', timestamp: T0 - 10 * MIN })));
    const api = await h.admin('GET', `/workspaces/${WS}/optimizations/skewed/results`);
    assert.equal(api.srm.flagged, true);
    const { page } = await signedIn();
    await page.goto(`/#/w/${WS}/optimizations/skewed`);
    const alert = page.getByRole('alert').filter({ hasText: 'Sample ratio mismatch' });
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(`p = ${p4(api.srm.pValue).replace('.', '\\.')}`));
  });

  it('explains an unattributed conversion with its reason code and the view that decided it', async () => {
    const api = await h.admin('GET', `/workspaces/${WS}/conversions/deal-late`);
    assert.equal(api.reason, 'session_expired');
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/explain`);
    await page.getByLabel('Idempotency key').fill('deal-late');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.locator('code.reason', { hasText: 'session_expired' }).waitFor();
    assert.equal(await page.locator('.outcome .badge').innerText(), 'Not attributed');
    assert.equal(await page.locator('.lead').innerText(), api.explanation);
    const views = await tableText(page, 'Views of late');
    assert.deepEqual(views, [['2026-01-15 09:00:00Z', 'hero', 'bold', '1', '2 h before', 'decided the outcome']]);
    assert.match(await page.getByText('This visitor\'s only session does not cover the conversion').innerText(), /11:00:00Z/);
    await shot(page, 'explain');
    await page.getByLabel('Idempotency key').fill('deal-unknown');
    await page.getByLabel('Idempotency key').press('Enter');
    await page.locator('code.reason', { hasText: 'unknown_user' }).waitFor();
    await page.getByLabel('Idempotency key').fill('no-such-key');
    await page.getByLabel('Idempotency key').press('Enter');
    await page.getByRole('alert').filter({ hasText: 'No conversion has the idempotency key "no-such-key"' }).waitFor();
    assert.deepEqual(errors, []);
  });

  it('lists recent events and filters them by dialect, type and visitor', async () => {
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/events`);
    await tableText(page, 'Events, newest first');
    await page.getByLabel('Dialect').selectOption('optimize');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/dialect=optimize/);
    await page.locator('tbody tr').first().waitFor();
    const rows = await tableText(page, 'Events, newest first');
    assert.deepEqual(rows.map((r) => [r[1], r[2], r[3], r[5]]), [['conversion', 'purchase', 'optimize', 'salesforce / u8']]);
    await page.goto(`/#/w/${WS}/events?type=view&visitorId=v5`);
    await page.getByRole('link', { name: 'v5', exact: true }).waitFor();
    assert.deepEqual((await tableText(page, 'Events, newest first')).map((r) => [r[1], r[4], r[6]]), [['view', 'v5', 'hero / bold']]);
    await page.goto(`/#/w/${WS}/events`);
    await page.locator('tbody tr').nth(10).waitFor();
    await shot(page, 'events');
    assert.deepEqual(errors, []);
  });

  it('shows a user\'s journey: sessions, views, identities and the conversion\'s outcome', async () => {
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/journeys`);
    await page.getByLabel('User domain').fill('salesforce');
    await page.getByLabel('User id').fill('u5');
    await page.getByRole('button', { name: 'Show user' }).click();
    await page.getByRole('heading', { name: 'Journey of user salesforce / u5' }).waitFor();
    const items = await page.locator('.timeline li').allInnerTexts();
    assert.deepEqual(items.map((t) => t.replace(/\s+/g, ' ').trim()), [
      '2026-01-15 11:20:05Z Session 1 of v5 starts',
      '2026-01-15 11:20:05Z view viewed bold of hero',
      '2026-01-15 11:21:05Z identify identified as salesforce / u5',
      '2026-01-15 11:30:05Z conversion purchase (105) attributed to hero/bold',
      '2026-01-15 11:51:05Z Session 1 of v5 ends (inactivity, after 31 min)',
    ]);
    await shot(page, 'journeys');
    assert.deepEqual(errors, []);
  });

  it('draws data quality: match rates, ingestion lag and rejections by reason', async () => {
    const api = await h.admin('GET', `/workspaces/${WS}/data-quality`);
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/quality`);
    const domain = page.locator('figure', { hasText: 'Match rate by userDomain' });
    await domain.waitFor();
    const sf = api.matchRate.byUserDomain.salesforce;
    assert.equal(await domain.locator('li', { hasText: 'salesforce' }).locator('.bar-text').innerText(), `${(sf.matchRate * 100).toFixed(1)} % (${sf.matched} of ${sf.conversions})`);
    await page.locator('figure', { hasText: 'Match rate by dialect' }).locator('li', { hasText: 'optimize' }).waitFor();
    await shot(page, 'quality');
    assert.deepEqual(errors, []);
  });

  it('creates a key and shows its secret once, and revokes it', async () => {
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/settings/keys`);
    await page.getByLabel('Key name').fill('CRM webhook');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.locator('.notice.ok pre code').innerText();
    assert.match(secret, /^cl_sk_\S{32,}$/);
    await shot(page, 'settings-keys');
    await h.send(secret, [{ type: 'pageview', visitorId: 'key-check', timestamp: T0 }]);
    await page.reload();
    await page.getByRole('cell', { name: 'CRM webhook' }).waitFor();
    assert.equal((await page.content()).includes(secret), false, 'the secret is not shown again');
    await page.getByRole('button', { name: 'Revoke key CRM webhook' }).click();
    await page.getByRole('button', { name: 'Revoke CRM webhook now' }).click();
    await page.getByRole('row', { name: /CRM webhook/ }).getByText(/^revoked/).waitFor();
    const refused = await fetch(`${h.server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: '{"type":"pageview","visitorId":"x"}' });
    assert.equal(refused.status, 401);
    assert.deepEqual(errors, []);
  });

  it('creates a goal, renames it and shows its name history', async () => {
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/settings/goals`);
    await page.getByLabel('API name', { exact: true }).fill('signup');
    await page.getByRole('button', { name: 'Create goal' }).click();
    const rename = page.getByLabel('New API name for signup');
    await rename.waitFor();
    await rename.fill('sign-up');
    await page.getByRole('form', { name: 'Rename goal signup' }).getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('row', { name: /sign-up/ }).locator('.history li').nth(1).waitFor();
    const goal = (await h.admin('GET', `/workspaces/${WS}/goals`)).goals.find((g: { name: string }) => g.name === 'signup');
    assert.deepEqual(goal.history.map((n: { apiName: string }) => n.apiName), ['signup', 'sign-up']);
    const history = await page.getByRole('row', { name: /sign-up/ }).locator('.history li').allInnerTexts();
    assert.match(history[0]!, /^signup \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ – \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    assert.match(history[1]!, /^sign-up since .* \(current\)$/);
    await shot(page, 'settings-goals');
    assert.deepEqual(errors, []);
  });

  it('creates an optimization and changes its status', async () => {
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/settings/optimizations`);
    await page.getByLabel('Key', { exact: true }).fill('cta');
    await page.getByLabel('Variations').fill('control, green:2');
    await page.getByLabel('purchase').check();
    await page.getByRole('button', { name: 'Create optimization' }).click();
    const status = page.getByLabel('Status of cta');
    await status.selectOption('paused');
    await page.getByText('saved: paused').waitFor();
    const o = await h.admin('GET', `/workspaces/${WS}/optimizations/cta`);
    assert.deepEqual([o.status, o.variations.map((v: { key: string; weight: number }) => `${v.key}:${v.weight}`), o.goals], ['paused', ['control:1', 'green:2'], ['purchase']]);
    await shot(page, 'settings-optimizations');
    assert.deepEqual(errors, []);
  });

  it('replays a rejection once its cause is fixed in the workspace settings', async () => {
    await h.admin('POST', '/workspaces', { id: 'quota', settings: { monthlyQuota: 1 } });
    const { key } = await h.admin('POST', '/workspaces/quota/keys', { name: 'backend', kind: 'server' });
    await h.send(key, [{ type: 'conversion', name: 'purchase', visitorId: 'q1', idempotencyKey: 'q-1', timestamp: T0 }]);
    const refused = await fetch(`${h.server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'conversion', name: 'purchase', visitorId: 'q2', idempotencyKey: 'q-2', timestamp: T0 }) });
    assert.equal(refused.status, 402);
    const [rejection] = (await h.admin('GET', '/workspaces/quota/rejections')).rejections;

    const { page, errors } = await signedIn();
    await page.goto('/#/w/quota/rejections');
    await page.locator('code.reason', { hasText: 'quota_exceeded' }).waitFor();
    await page.getByText('Raw body').click();
    assert.match(await page.locator('.rejection pre').innerText(), /"idempotencyKey": "q-2"/);
    await page.getByRole('button', { name: `Replay rejection ${rejection.id}` }).click();
    await page.getByRole('alert').filter({ hasText: 'Still rejected' }).waitFor();
    await shot(page, 'rejections');

    await page.goto('/#/w/quota/settings/workspace');
    await page.getByLabel('Monthly quota (events)').fill('1000');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved: monthlyQuota.').waitFor();
    await shot(page, 'settings-workspace');
    const ws = await h.admin('GET', '/workspaces/quota');
    assert.deepEqual(ws.overrides, { monthlyQuota: 1000 }, 'only the changed setting is sent');

    await page.goto('/#/w/quota/rejections');
    await page.getByRole('button', { name: `Replay rejection ${rejection.id}` }).click();
    const stored = page.getByRole('status').filter({ hasText: 'Replayed: stored as event' });
    await stored.waitFor();
    const after = (await h.admin('GET', '/workspaces/quota/rejections')).rejections[0];
    assert.equal(await stored.innerText(), `Replayed: stored as event ${after.replayedEventId}.`);
    assert.equal((await h.admin('GET', '/workspaces/quota/events?type=conversion')).events[0].idempotencyKey, 'q-2');
    assert.deepEqual(errors, []);
  });

  it('gives the snippet tag and a ready-to-run curl example per dialect with a key created there', async () => {
    const { page, errors } = await signedIn();
    await page.goto(`/#/w/${WS}/settings/install`);
    await page.getByRole('button', { name: 'Create a browser key' }).click();
    await page.locator('pre[aria-label="snippet tag"] code', { hasText: 'cl_pk_' }).waitFor();
    const tag = await page.locator('pre[aria-label="snippet tag"] code').innerText();
    assert.match(tag, new RegExp(`^<script async src="${h.server.url}/t\\.js" data-key="cl_pk_\\S+"></script>$`));
    await page.getByLabel('Server key for the examples').fill(serverKey);
    const native = await page.locator('pre[aria-label="native example"] code').innerText();
    assert.match(native, new RegExp(`^curl -X POST ${h.server.url}/v1/events`));
    assert.ok(native.includes(`Authorization: Bearer ${serverKey}`));
    assert.ok((await page.locator('pre[aria-label="webanalyzer example"] code').innerText()).includes(`/api/v1/websites/${WS}/track`));
    await shot(page, 'settings-install');
    assert.deepEqual(errors, []);
  });

  it('is usable on a phone: navigation, results table and chart fit the screen', async () => {
    const { page, errors } = await signedIn({ width: 390, height: 844 });
    await page.goto(`/#/w/${WS}/optimizations/hero`);
    await page.locator('.chart canvas').first().waitFor();
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.equal(overflow, 0, 'nothing wider than the screen but the scrollable table');
    await shot(page, 'results-phone');
    assert.deepEqual(errors, []);
  });

  it('can be used from the keyboard: skip link, section links and visible focus', async () => {
    const { page } = await signedIn();
    await page.goto(`/#/w/${WS}/optimizations`);
    await page.getByRole('heading', { name: 'Optimizations' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    assert.equal(outline, 'solid');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'main');
    await page.getByRole('link', { name: 'Data quality' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Data quality' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Data quality' }).getAttribute('aria-current'), 'page');
  });
});
