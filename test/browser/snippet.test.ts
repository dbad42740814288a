import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assignVariation } from '../../src/assignment/index.js';
import { settle, skipReason, snippetPage, startHarness, type Harness } from './harness.js';

/**
 * The page's globals, as the functions given to page.evaluate see them: tests are type-checked
 * without the DOM lib, so these are declared here, for this module only (nothing is emitted).
 */
interface SnippetApi {
  getVariation(optimization: string): string | null;
  getSessionId(): string | null;
  setUserId(domain: string, id: string): void;
  track(name: string, properties?: Record<string, unknown>): void;
  flush(): Promise<void>;
}
declare const window: { closeloop: SnippetApi; Convultra: { getSessionId(): string | null } };
declare const localStorage: { getItem(key: string): string | null; removeItem(key: string): void };
declare const history: { pushState(data: unknown, unused: string, url: string): void; replaceState(data: unknown, unused: string, url: string): void; back(): void };
declare const addEventListener: (type: string, listener: () => void, options: { once: boolean }) => void;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MINUTE = 60_000;

describe('browser snippet in Chromium', { skip: skipReason() }, () => {
  let h: Harness;
  let n = 0;
  before(async () => { h = await startHarness(); });
  after(async () => { await h?.close(); });

  const url = (key: string, opts?: Parameters<typeof snippetPage>[2]) => h.page(`/p${++n}`, snippetPage(h, key, opts));

  it('records a pageview, keeps the visitor in ot_vid, and gives the session id its events carry', async () => {
    const ws = await h.tenant('pageview');
    const { context, page } = await h.open();
    await page.goto(url(ws.browserKey));
    await settle(page);
    const seen = await page.evaluate(() => ({
      otVid: localStorage.getItem('ot_vid'),
      session: window.closeloop.getSessionId(),
      convultra: window.Convultra.getSessionId(),
    }));
    assert.match(seen.otVid!, UUID);
    assert.equal(seen.convultra, seen.session);
    const [pv, ...rest] = await h.events(ws.id);
    assert.deepEqual(rest, []);
    assert.deepEqual([pv.type, pv.source, pv.visitorId, pv.sessionId, pv.context.url], ['pageview', 'collect', seen.otVid, seen.session, page.url()]);
    assert.match(pv.context.userAgent, /Chrome/);
    await context.close();
  });

  it('links the visitor with setUserId in all three spellings, inside ready() as the Optimize docs write it', async () => {
    const ws = await h.tenant('identify');
    const { context, page } = await h.open();
    await page.goto(url(ws.browserKey, {
      before: `closeloop.setUserId("crm", "early-1");
        intellimize.ready(function() {
          intellimize.setUserId("salesforce", "72349876");
        });
        wf.ready(function() { wf.setUserId("applicationId", "123456789"); });`,
    }));
    await settle(page);
    const identities = (await h.events(ws.id, 'identify')).map((e) => [e.userDomain, e.userId]);
    assert.deepEqual(identities.sort(), [['applicationId', '123456789'], ['crm', 'early-1'], ['salesforce', '72349876']]);
    await context.close();
  });

  it('assigns a sticky variation, the server\'s, and records its view once per session', async () => {
    const ws = await h.tenant('sticky');
    await h.admin('POST', `/workspaces/${ws.id}/goals`, { apiName: 'signup' });
    const variations = [{ key: 'control', weight: 1 }, { key: 'bold', weight: 1 }];
    await h.admin('POST', `/workspaces/${ws.id}/optimizations`, { key: 'hero', variations, goals: ['signup'] });
    const { context, page } = await h.open();
    const address = url(ws.browserKey);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(address);
      await settle(page);
      seen.push(await page.evaluate(() => window.closeloop.getVariation('hero') + ' ' + window.closeloop.getVariation('hero')));
      await settle(page);
    }
    const visitor = await page.evaluate(() => localStorage.getItem('ot_vid')!);
    const expected = assignVariation(visitor, { key: 'hero', variations })!;
    assert.deepEqual(seen, Array(3).fill(`${expected} ${expected}`));
    assert.deepEqual((await h.events(ws.id, 'view')).map((e) => [e.visitorId, e.optimization, e.variation]), [[visitor, 'hero', expected]]);
    assert.equal(await page.evaluate(() => window.closeloop.getVariation('no-such-test')), null);
    await context.close();
  });

  it('distributes many visitors by weight, each exactly as the server assigns', async () => {
    const ws = await h.tenant('weights');
    await h.admin('POST', `/workspaces/${ws.id}/goals`, { apiName: 'signup' });
    const variations = [{ key: 'control', weight: 1 }, { key: 'annual', weight: 3 }];
    await h.admin('POST', `/workspaces/${ws.id}/optimizations`, { key: 'pricing', variations, goals: ['signup'] });
    const { context, page } = await h.open();
    await page.goto(url(ws.browserKey));
    await settle(page);
    // A new visitor each round: the snippet reads its identity from localStorage on every call.
    const pairs = await page.evaluate(() => Array.from({ length: 1000 }, () => {
      for (const k of ['cl_vid', 'ot_vid', 'cl_a', 'cl_v', 'cl_s']) localStorage.removeItem(k);
      const variation = window.closeloop.getVariation('pricing');
      return [localStorage.getItem('ot_vid'), variation] as [string, string];
    }));
    assert.equal(new Set(pairs.map(([v]) => v)).size, 1000);
    for (const [visitor, variation] of pairs) assert.equal(variation, assignVariation(visitor, { key: 'pricing', variations }), visitor);
    const control = pairs.filter(([, v]) => v === 'control').length / pairs.length;
    assert.ok(Math.abs(control - 0.25) < 0.07, `control share ${control}`);
    await context.close();
  });

  it('starts a new session after 30 minutes without activity (the page\'s clock, not the wall\'s)', async () => {
    const ws = await h.tenant('sessions');
    const { context, page } = await h.open();
    await page.clock.install({ time: Date.UTC(2026, 0, 15, 9, 0, 0) });
    await page.goto(url(ws.browserKey));
    await settle(page);
    await page.clock.pauseAt(Date.UTC(2026, 0, 15, 9, 1, 0));
    const sid = () => page.evaluate(() => window.closeloop.getSessionId() as string);
    const first = await sid();
    await page.clock.fastForward(29 * MINUTE);
    assert.equal(await sid(), first, '29 minutes idle: the same session');
    await page.evaluate(() => window.closeloop.track('still-here'));
    await page.clock.fastForward(31 * MINUTE);
    const second = await sid();
    assert.notEqual(second, first, '31 minutes idle: a new one');
    await page.evaluate(() => window.closeloop.track('back'));
    await page.evaluate(() => window.closeloop.flush());
    const events = await h.events(ws.id);
    assert.deepEqual(events.map((e) => [e.type, e.name, e.sessionId]), [
      ['pageview', null, first], ['custom', 'still-here', first], ['pageview', null, second], ['custom', 'back', second],
    ]);
    await context.close();
  });

  it('follows a single-page app\'s history: pushState, replaceState and back produce pageviews', async () => {
    const ws = await h.tenant('spa');
    const { context, page } = await h.open();
    const address = url(ws.browserKey);
    await page.goto(address);
    await settle(page);
    await page.evaluate(() => {
      history.pushState({}, '', '/pricing');
      history.replaceState({}, '', '/pricing');
      history.replaceState({}, '', '/pricing?plan=pro');
    });
    await page.evaluate(() => new Promise<void>((resolve) => {
      addEventListener('popstate', () => resolve(), { once: true });
      history.back();
    }));
    await settle(page);
    const origin = h.pageOrigin;
    assert.deepEqual((await h.events(ws.id, 'pageview')).map((e) => [e.context.url, e.context.referrer ?? null]), [
      // replaceState took /pricing's place in the history: back returns to the first page.
      [address, null], [`${origin}/pricing`, address], [`${origin}/pricing?plan=pro`, `${origin}/pricing`], [address, `${origin}/pricing?plan=pro`],
    ]);
    await context.close();
  });

  it('keeps calls made before the script loaded, and delivers events recorded as the page goes away', async () => {
    const ws = await h.tenant('unload');
    const { context, page } = await h.open();
    await page.clock.install();
    await page.goto(url(ws.browserKey, { before: 'closeloop.track("before-load", { step: 1 }); closeloop.view("hero", "bold");' }));
    await settle(page);
    await page.clock.pauseAt(Date.now() + 1000); // no timer fires from here: only the page going away sends
    await page.evaluate(() => window.closeloop.track('leaving'));
    await page.goto('about:blank');
    const events = await h.eventsWhen(ws.id, (list) => list.some((e) => e.name === 'leaving'));
    assert.deepEqual(events.map((e) => [e.type, e.name ?? e.optimization, e.properties]), [
      ['pageview', null, null], ['custom', 'before-load', { step: 1 }], ['view', 'hero', null], ['custom', 'leaving', null],
    ]);
    await context.close();
  });

  it('is refused from a page whose origin the workspace does not admit, and nothing is stored', async () => {
    const ws = await h.tenant('foreign', { allowedOrigins: ['https://shop.example'] });
    const { context, page } = await h.open();
    // The server answers 403 without Access-Control-Allow-Origin, so the browser fails the request.
    const refused = page.waitForEvent('requestfailed', (r) => r.url().endsWith('/collect') && r.method() === 'POST');
    await page.goto(url(ws.browserKey));
    await refused;
    const readable = await page.evaluate(async ([server, key]) => {
      try {
        await fetch(`${server}/collect`, { method: 'POST', body: JSON.stringify({ key, events: [] }) });
        return 'read';
      } catch {
        return 'blocked';
      }
    }, [h.server.url, ws.browserKey]);
    assert.equal(readable, 'blocked', 'the page cannot read the answer');
    assert.deepEqual(await h.events(ws.id), []);
    await context.close();
  });

  it('records nothing for a browser sending Global Privacy Control when the workspace honours it', async () => {
    const ws = await h.tenant('gpc', { honorGlobalPrivacyControl: true });
    await h.admin('POST', `/workspaces/${ws.id}/goals`, { apiName: 'signup' });
    await h.admin('POST', `/workspaces/${ws.id}/optimizations`, { key: 'hero', variations: [{ key: 'a' }, { key: 'b' }], goals: ['signup'] });
    const { context, page } = await h.open('Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: function () { return true; } });');
    const address = url(ws.browserKey);
    for (let i = 0; i < 2; i++) {
      await page.goto(address);
      await settle(page);
      const seen = await page.evaluate(() => {
        const c = window.closeloop;
        c.setUserId('crm', 'u1');
        return [c.getVariation('hero'), c.getSessionId(), localStorage.getItem('ot_vid')];
      });
      assert.deepEqual(seen, [null, null, null]);
    }
    assert.deepEqual(await h.events(ws.id), []);
    await context.close();
  });

  it('closes the loop: a view in the browser, a conversion from a backend (Optimize dialect), attributed to the variation seen', async () => {
    const ws = await h.tenant('loop');
    assert.equal((await h.admin('POST', `/workspaces/${ws.id}/goals`, { apiName: 'application-accepted' })).status, 201);
    const variations = [{ key: 'control' }, { key: 'bold' }];
    assert.equal((await h.admin('POST', `/workspaces/${ws.id}/optimizations`, { key: 'hero', variations, goals: ['application-accepted'] })).status, 201);
    const { context, page } = await h.open();
    await page.goto(url(ws.browserKey, {
      before: 'intellimize.ready(function () { document.title = closeloop.getVariation("hero"); intellimize.setUserId("salesforce", "72349876"); });',
    }));
    await settle(page);
    const shown = await page.title();
    assert.ok(shown === 'control' || shown === 'bold', shown);
    const lastSeen = Math.max(...(await h.events(ws.id)).map((e) => e.occurredAt as number));

    const conversion = await fetch(`${h.server.url}/event`, {
      method: 'POST',
      headers: { authorization: `ApiKey ${ws.serverKey}`, 'content-type': 'application/json' },
      body: `{ customerId: "${ws.id}", eventName: "application-accepted", userDomain: "salesforce", userId: "72349876", actionId: "deal-42", actionTimestamp: ${lastSeen + 1000}, value: 149.99 }`,
    });
    assert.equal(conversion.status, 200, await conversion.text());
    const run = await h.admin('POST', `/workspaces/${ws.id}/attribution/run`, {});
    assert.equal(run.status, 200, JSON.stringify(run.body));
    const answer = await h.admin('GET', `/workspaces/${ws.id}/conversions/deal-42`);
    assert.equal(answer.body.outcome, 'attributed', JSON.stringify(answer.body));
    assert.deepEqual(answer.body.attributions.map((a: any) => [a.optimization, a.variation]), [['hero', shown]]);
    await context.close();
  });
});
