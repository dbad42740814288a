import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';

const DAY = 86_400_000;
type Body = Record<string, unknown>;

/** An off-site conversion as the Optimize API reference writes it, stamped relative to `now`. */
const conversion = (customerId: string, now: number, over: Body = {}): Body => ({
  customerId,
  eventName: 'application-accepted',
  userDomain: 'salesforce',
  userId: '72349876',
  actionId: '23823940',
  actionTimestamp: now - 60_000,
  value: 149.99,
  ...over,
});

describe('optimize dialect', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  async function workspace(settings?: Parameters<TestApp['workspace']>[1]) {
    const ws = await t.workspace(`opt-${++n}`, settings);
    const auth = { authorization: `ApiKey ${ws.serverKey}`, 'content-type': 'application/json' };
    const post = (url: string, payload: Body | string) => t.call({ method: 'POST', url, headers: auth, payload });
    const events = async (): Promise<Body[]> => (await t.admin('GET', `/admin/v1/workspaces/${ws.id}/events`)).body.events as Body[];
    return { ...ws, auth, post, event: (payload: Body | string) => post('/event', payload), events };
  }

  describe('endpoints and authentication', () => {
    it('stores a conversion sent to POST /event with customerId in the body', async () => {
      const ws = await workspace();
      const body = conversion(ws.id, t.clock.now());
      const res = await ws.event(body);
      assert.equal(res.status, 200);
      const [e] = await ws.events();
      assert.deepEqual(e, {
        id: e!.id, workspaceId: ws.id, type: 'conversion', name: 'application-accepted', occurredAt: t.clock.now() - 60_000, receivedAt: t.clock.now(),
        idempotencyKey: '23823940', visitorId: null, sessionId: null, userDomain: 'salesforce', userId: '72349876',
        optimization: null, variation: null, value: 149.99, currency: null, properties: null, userData: null, context: null, source: 'optimize',
      });
    });

    it('stores a conversion sent to POST /customer/{customerId}/event without customerId in the body', async () => {
      const ws = await workspace();
      const { customerId: _omit, ...body } = conversion(ws.id, t.clock.now());
      const res = await ws.post(`/customer/${ws.id}/event`, body);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, body);
      assert.equal((await ws.events()).length, 1);
    });

    it('accepts customerId as a number when the workspace id is numeric', async () => {
      const id = `${900_000_000 + ++n}`;
      const ws = await t.workspace(id);
      const res = await t.call({ method: 'POST', url: '/event', headers: { authorization: `ApiKey ${ws.serverKey}` }, payload: conversion(id, t.clock.now(), { customerId: Number(id) }) });
      assert.equal(res.status, 200);
    });

    it('answers 401 without the ApiKey scheme', async () => {
      const ws = await workspace();
      const body = conversion(ws.id, t.clock.now());
      for (const authorization of [undefined, `Bearer ${ws.serverKey}`, 'ApiKey AbCdEf123456', `ApiKey ${ws.browserKey}`]) {
        const res = await t.call({ method: 'POST', url: '/event', headers: authorization === undefined ? {} : { authorization }, payload: body });
        assert.equal(res.status, 401, authorization);
        assert.equal(res.body.error, 'unauthorized');
      }
      assert.deepEqual(await ws.events(), []);
    });

    it('answers 404 when customerId is another workspace\'s', async () => {
      const ws = await workspace();
      const other = await workspace();
      const res = await ws.event(conversion(other.id, t.clock.now()));
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { error: 'workspace_mismatch', message: `Workspace "${other.id}" was not found for this API key.` });
      assert.deepEqual(await other.events(), []);
    });

    it('answers 404 when the path names another workspace', async () => {
      const ws = await workspace();
      const other = await workspace();
      const { customerId: _omit, ...body } = conversion(ws.id, t.clock.now());
      const res = await ws.post(`/customer/${other.id}/event`, body);
      assert.equal(res.status, 404);
      assert.equal(res.body.error, 'workspace_mismatch');
    });

    it('answers 400 when the body customerId differs from the path', async () => {
      const ws = await workspace();
      const other = await workspace();
      const res = await ws.post(`/customer/${ws.id}/event`, conversion(other.id, t.clock.now()));
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { error: 'field_invalid', message: `customerId "${other.id}" in the body differs from "${ws.id}" in the path.`, field: 'customerId' });
    });

    it('answers 400 when POST /event has no customerId', async () => {
      const ws = await workspace();
      const { customerId: _omit, ...body } = conversion(ws.id, t.clock.now());
      const res = await ws.event(body);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'field_required');
      assert.equal(res.body.field, 'customerId');
    });
  });

  describe('fields', () => {
    it('accepts apiName as the older alias of eventName', async () => {
      const ws = await workspace();
      const { eventName: _omit, ...rest } = conversion(ws.id, t.clock.now());
      const res = await ws.event({ ...rest, apiName: 'application-accepted' });
      assert.equal(res.status, 200);
      assert.equal((await ws.events())[0]!.name, 'application-accepted');
    });

    it('refuses eventName and apiName that disagree', async () => {
      const ws = await workspace();
      const res = await ws.event(conversion(ws.id, t.clock.now(), { apiName: 'something-else' }));
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'apiName');
    });

    it('refuses a conversion with neither eventName nor apiName', async () => {
      const ws = await workspace();
      const { eventName: _omit, ...rest } = conversion(ws.id, t.clock.now());
      const res = await ws.event(rest);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'field_required');
      assert.equal(res.body.field, 'eventName');
    });

    for (const field of ['userDomain', 'userId', 'actionId', 'actionTimestamp']) {
      it(`refuses a conversion without ${field}`, async () => {
        const ws = await workspace();
        const body = conversion(ws.id, t.clock.now());
        delete body[field];
        const res = await ws.event(body);
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, { error: 'field_required', message: `${field} is required.`, field });
      });
    }

    it('stores a conversion without value', async () => {
      const ws = await workspace();
      const { value: _omit, ...body } = conversion(ws.id, t.clock.now());
      assert.equal((await ws.event(body)).status, 200);
      assert.equal((await ws.events())[0]!.value, null);
    });

    it('refuses a value that is not a number', async () => {
      const ws = await workspace();
      const res = await ws.event(conversion(ws.id, t.clock.now(), { value: '149.99' }));
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'value');
    });
  });

  describe('request and response bodies', () => {
    it('echoes the submitted body exactly on 200', async () => {
      const ws = await workspace();
      const body = conversion(ws.id, t.clock.now(), { note: 'kept as sent' });
      const res = await ws.event(body);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, body);
    });

    it('accepts a body with unquoted keys, as in the guide\'s curl examples, and echoes it as JSON', async () => {
      const ws = await workspace();
      const ts = t.clock.now() - 60_000;
      const text = `{
    customerId: "${ws.id}",
    apiName: "application-accepted",
    userDomain: "salesforce",
    userId: "72349876",
    actionId: "23823940",
    actionTimestamp: ${ts},
    value: 149.99
}`;
      const res = await ws.event(text);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        customerId: ws.id, apiName: 'application-accepted', userDomain: 'salesforce', userId: '72349876', actionId: '23823940', actionTimestamp: ts, value: 149.99,
      });
      assert.equal((await ws.events())[0]!.name, 'application-accepted');
    });

    it('answers 400 invalid_json to a body that is not JSON even with unquoted keys', async () => {
      const ws = await workspace();
      const res = await ws.event('customerId=1&eventName=x');
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_json');
    });
  });

  describe('actionId idempotency', () => {
    it('answers a repeat with the same fields 200 and stores it once', async () => {
      const ws = await workspace();
      const body = conversion(ws.id, t.clock.now());
      const first = await ws.event(body);
      t.clock.advance(60_000);
      const again = await ws.event(body);
      assert.equal(first.status, 200);
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, body);
      assert.equal((await ws.events()).length, 1);
    });

    it('treats eventName and apiName of the same conversion as the same content', async () => {
      const ws = await workspace();
      const body = conversion(ws.id, t.clock.now());
      await ws.event(body);
      const { eventName, ...rest } = body;
      const again = await ws.event({ ...rest, apiName: eventName });
      assert.equal(again.status, 200);
      assert.equal((await ws.events()).length, 1);
    });

    it('answers 409 naming value when the same actionId comes with another value', async () => {
      const ws = await workspace();
      const body = conversion(ws.id, t.clock.now());
      await ws.event(body);
      const res = await ws.event({ ...body, value: 99 });
      assert.equal(res.status, 409);
      assert.deepEqual(res.body, {
        error: 'idempotency_conflict',
        message: 'actionId "23823940" was already used for a different event; these fields differ: value. Send a new actionId for a new event.',
        field: 'actionId',
        fields: ['value'],
      });
      assert.equal((await ws.events()).length, 1);
    });

    it('names every differing field as the dialect spells it', async () => {
      const ws = await workspace();
      const body = conversion(ws.id, t.clock.now());
      await ws.event(body);
      const res = await ws.event({ ...body, eventName: 'deal-won', actionTimestamp: (body.actionTimestamp as number) + 1, userId: '1' });
      assert.equal(res.status, 409);
      assert.deepEqual(res.body.fields, ['eventName', 'actionTimestamp', 'userId']);
      assert.match(res.body.message, /these fields differ: eventName, actionTimestamp, userId\./);
    });

    it('accepts the same actionId in another workspace', async () => {
      const a = await workspace();
      const b = await workspace();
      assert.equal((await a.event(conversion(a.id, t.clock.now()))).status, 200);
      assert.equal((await b.event(conversion(b.id, t.clock.now(), { value: 1 }))).status, 200);
    });
  });

  describe('actionTimestamp', () => {
    it('rejects UNIX seconds with a message that says seconds', async () => {
      const ws = await workspace();
      const seconds = Math.floor(t.clock.now() / 1000) - 60;
      const res = await ws.event(conversion(ws.id, t.clock.now(), { actionTimestamp: seconds }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'timestamp_in_seconds');
      assert.equal(res.body.field, 'actionTimestamp');
      assert.match(res.body.message, /^actionTimestamp \d+ looks like UNIX seconds .*; send UNIX milliseconds, e\.g\. \d+000\.$/);
      assert.deepEqual(await ws.events(), []);
    });

    it('reads a numeric string as milliseconds', async () => {
      const ws = await workspace();
      const ts = t.clock.now() - 1000;
      assert.equal((await ws.event(conversion(ws.id, t.clock.now(), { actionTimestamp: String(ts) }))).status, 200);
      assert.equal((await ws.events())[0]!.occurredAt, ts);
    });

    it('refuses an ISO string', async () => {
      const ws = await workspace();
      const res = await ws.event(conversion(ws.id, t.clock.now(), { actionTimestamp: new Date(t.clock.now()).toISOString() }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'timestamp_invalid');
    });

    it('refuses conversions older than 2 days by default, as the Optimize profile does', async () => {
      const ws = await workspace();
      const now = t.clock.now();
      assert.equal((await ws.event(conversion(ws.id, now, { actionId: 'a', actionTimestamp: now - 2 * DAY }))).status, 200);
      const res = await ws.event(conversion(ws.id, now, { actionId: 'b', actionTimestamp: now - 2 * DAY - 1 }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'timestamp_too_old');
      assert.match(res.body.message, /limit of 2 days \(maxEventAgeDays\)/);
    });

    it('uses the workspace maxEventAgeDays when it is set explicitly', async () => {
      const ws = await workspace({ maxEventAgeDays: 7 });
      const now = t.clock.now();
      assert.equal((await ws.event(conversion(ws.id, now, { actionId: 'a', actionTimestamp: now - 5 * DAY }))).status, 200);
      const res = await ws.event(conversion(ws.id, now, { actionId: 'b', actionTimestamp: now - 7 * DAY - 1 }));
      assert.equal(res.status, 400);
      assert.match(res.body.message, /limit of 7 days/);
    });

    it('refuses a time further in the future than maxClockSkewMs', async () => {
      const ws = await workspace({ maxClockSkewMs: 5000 });
      const now = t.clock.now();
      assert.equal((await ws.event(conversion(ws.id, now, { actionId: 'a', actionTimestamp: now + 5000 }))).status, 200);
      const res = await ws.event(conversion(ws.id, now, { actionId: 'b', actionTimestamp: now + 5001 }));
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'timestamp_in_future');
      assert.equal(res.body.field, 'actionTimestamp');
    });
  });
});

describe('optimize dialect: the reference guide\'s examples', () => {
  // The guide's examples are stamped 1578316150000 (2020-01-06T13:09:10Z): run at that instant.
  const EXAMPLE_TS = 1578316150000;
  let t: TestApp;
  before(async () => { t = await testApp(); t.clock.set(EXAMPLE_TS + 3_600_000); });
  after(async () => { await t.close(); });

  it('accepts the guide\'s example request verbatim (unquoted keys, apiName)', async () => {
    const ws = await t.workspace('123456789');
    const text = `{
customerId: "123456789",
apiName: "application-accepted",
userDomain: "salesforce",
userId: "72349876",
actionId: "23823940",
actionTimestamp: 1578316150000,
value: 149.99
}`;
    const res = await t.call({ method: 'POST', url: '/event', headers: { authorization: `ApiKey ${ws.serverKey}`, 'content-type': 'application/json' }, payload: text });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      customerId: '123456789', apiName: 'application-accepted', userDomain: 'salesforce', userId: '72349876', actionId: '23823940', actionTimestamp: 1578316150000, value: 149.99,
    });
  });

  it('refuses the guide\'s /customer/123456789/event example, whose actionTimestamp is in seconds', async () => {
    const ws = await t.workspace('1234567');
    const text = `{
eventName: "application-accepted",
userDomain: "applicationId",
userId: "123456789",
actionId: "23823940",
actionTimestamp: 1578316150,
value: 149.99
}`;
    const res = await t.call({ method: 'POST', url: `/customer/${ws.id}/event`, headers: { authorization: `ApiKey ${ws.serverKey}`, 'content-type': 'application/json' }, payload: text });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'timestamp_in_seconds',
      message: 'actionTimestamp 1578316150 looks like UNIX seconds (2020-01-06T13:09:10.000Z); send UNIX milliseconds, e.g. 1578316150000.',
      field: 'actionTimestamp',
    });
  });
});
