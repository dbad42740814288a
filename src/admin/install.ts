import { Type } from '@sinclair/typebox';
import { QUEUE_STUB } from '../tracker/index.js';

/** Stand-ins for the keys, whose secrets closeloop cannot show again; the dashboard swaps in a key the user has. */
export const SERVER_KEY_PLACEHOLDER = 'cl_sk_YOUR_SERVER_KEY';
export const BROWSER_KEY_PLACEHOLDER = 'cl_pk_YOUR_BROWSER_KEY';

export const InstallQuerySchema = Type.Object({
  baseUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+$', maxLength: 300, description: 'the URL browsers and backends reach closeloop at, e.g. https://track.example.com; default: the one this request came to' })),
});

/**
 * Ready-to-run curl examples, one per dialect, for a workspace and its server key.
 * The same commands `closeloop init` prints.
 */
export function curlExamples(baseUrl: string, workspaceId: string, serverKey: string, now: number): { dialect: string; command: string }[] {
  const json = (o: unknown) => JSON.stringify(o, null, 2).replace(/'/g, `'\\''`);
  return [
    {
      dialect: 'native',
      command: `curl -X POST ${baseUrl}/v1/events \\
  -H 'Authorization: Bearer ${serverKey}' \\
  -H 'Content-Type: application/json' \\
  -d '${json({ type: 'conversion', name: 'application-accepted', userDomain: 'salesforce', userId: '72349876', idempotencyKey: 'native-1', timestamp: now, value: 149.99, currency: 'USD' })}'`,
    },
    {
      dialect: 'optimize',
      command: `curl --location --request POST '${baseUrl}/event' \\
  --header 'Authorization: ApiKey ${serverKey}' \\
  --header 'Content-Type: application/json' \\
  --data-raw '${json({ customerId: workspaceId, eventName: 'application-accepted', userDomain: 'salesforce', userId: '72349876', actionId: '23823940', actionTimestamp: now, value: 149.99 })}'`,
    },
    {
      dialect: 'convultra',
      command: `curl -X POST ${baseUrl}/v1/track \\
  -H 'Authorization: Bearer ${serverKey}' \\
  -H 'Content-Type: application/json' \\
  -d '${json({ event_type: 'purchase', timestamp: new Date(now).toISOString(), session_id: 'sess_abc123', properties: { order_id: 'ORD-12345', value: 99.99, currency: 'USD' } })}'`,
    },
    {
      dialect: 'webanalyzer',
      command: `curl -X POST ${baseUrl}/api/v1/websites/${workspaceId}/track \\
  -H 'Authorization: Bearer ${serverKey}' \\
  -H 'Content-Type: application/json' \\
  -d '${json({ name: 'purchase', payload: { order_id: 'ORD-1234', amount: '49.99', currency: 'USD' }, visitor_id: '550e8400-e29b-41d4-a716-446655440000' })}'`,
    },
  ];
}

/** The tag that loads the browser snippet for a browser key (as `closeloop init` prints it). */
export function snippetTag(baseUrl: string, browserKey: string): string {
  return `<script async src="${baseUrl}/t.js" data-key="${browserKey}"></script>`;
}

/**
 * GET …/install: what a workspace needs to start sending data — the snippet tag, the queue stub
 * for calls made before the tag loads, and a curl example per dialect, stamped with the server's
 * clock (so the example is never older than maxEventAgeDays, even under CLOSELOOP_NOW).
 */
export function installGuide(baseUrl: string, workspaceId: string, now: number) {
  return {
    workspace: workspaceId,
    baseUrl,
    serverKeyPlaceholder: SERVER_KEY_PLACEHOLDER,
    browserKeyPlaceholder: BROWSER_KEY_PLACEHOLDER,
    snippetTag: snippetTag(baseUrl, BROWSER_KEY_PLACEHOLDER),
    queueStub: QUEUE_STUB,
    examples: curlExamples(baseUrl, workspaceId, SERVER_KEY_PLACEHOLDER, now),
  };
}
