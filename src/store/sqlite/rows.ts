import type { DialectName, EventType, StoredEvent } from '../../core/index.js';

/** An events row as SQLite returns it. */
export interface EventRow {
  id: number;
  workspace_id: string;
  type: string;
  name: string | null;
  occurred_at: number;
  received_at: number;
  idempotency_key: string | null;
  visitor_id: string | null;
  session_id: string | null;
  user_domain: string | null;
  user_id: string | null;
  optimization: string | null;
  variation: string | null;
  value: number | null;
  currency: string | null;
  properties: string | null;
  user_data: string | null;
  context: string | null;
  source: string;
}

function json<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export function eventFromRow(r: EventRow): StoredEvent {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    type: r.type as EventType,
    name: r.name,
    occurredAt: r.occurred_at,
    receivedAt: r.received_at,
    idempotencyKey: r.idempotency_key,
    visitorId: r.visitor_id,
    sessionId: r.session_id,
    userDomain: r.user_domain,
    userId: r.user_id,
    optimization: r.optimization,
    variation: r.variation,
    value: r.value,
    currency: r.currency,
    properties: json(r.properties),
    userData: json(r.user_data),
    context: json(r.context),
    source: r.source as DialectName,
  };
}

export function jsonOrNull(value: object | null): string | null {
  return value === null ? null : JSON.stringify(value);
}
