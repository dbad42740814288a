import { Type, type Static } from '@sinclair/typebox';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** One Web Analyzer Measurement Protocol event (reference/webanalyzer-measurement-protocol.txt). */
export const WebAnalyzerEventSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  payload: Type.Optional(Type.Record(
    Type.String({ maxLength: 128 }),
    Type.Union([Type.String({ maxLength: 255 }), Type.Number(), Type.Boolean(), Type.Null()], { description: 'a string, number or boolean (payloads are flat: no nested objects or arrays)' }),
    { maxProperties: 10 },
  )),
  visitor_id: Type.Optional(Type.Union([Type.String({ pattern: UUID_PATTERN, description: 'a UUID such as 550e8400-e29b-41d4-a716-446655440000 (the ot_vid value)' }), Type.Null()], { description: 'a UUID string (the ot_vid value)' })),
  url: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()], { description: 'a string' })),
  referrer: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()], { description: 'a string' })),
});
export type WebAnalyzerEvent = Static<typeof WebAnalyzerEventSchema>;

export const MAX_BATCH = 25;

export const WebAnalyzerBatchSchema = Type.Object({ events: Type.Array(WebAnalyzerEventSchema, { minItems: 1, maxItems: MAX_BATCH }) });

export const WebAnalyzerResponseSchema = Type.Object({
  ok: Type.Boolean(),
  event_id: Type.Optional(Type.Integer()),
  processed: Type.Optional(Type.Integer()),
  event_ids: Type.Optional(Type.Array(Type.Integer())),
  rejected: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), error: Type.String(), message: Type.String() }))),
  error: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  dryRun: Type.Optional(Type.Unknown({ description: 'With ?dryRun=true: what would be stored; nothing was.' })),
});
