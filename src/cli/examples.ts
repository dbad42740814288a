/** Ready-to-run curl examples, one per dialect, for a workspace and its server key. */
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

export function snippetTag(baseUrl: string, browserKey: string): string {
  return `<script async src="${baseUrl}/t.js" data-key="${browserKey}"></script>`;
}
