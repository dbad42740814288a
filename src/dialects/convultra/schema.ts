import { Type, type Static } from '@sinclair/typebox';

const text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const optText = (max: number) => Type.Optional(Type.String({ maxLength: max }));

/**
 * One Convultra Server API event (reference/convultra-server-api.txt). Unknown fields are
 * ignored, as the vendor does.
 */
export const ConvultraEventSchema = Type.Object({
  event_type: text(255),
  timestamp: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Number()], { description: 'an ISO 8601 string such as "2024-01-15T14:30:45Z"' })),
  session_id: Type.Optional(text(128)),
  user_id: Type.Optional(Type.Union([text(255), Type.Integer({ minimum: 0 })], { description: 'a string' })),
  properties: Type.Optional(Type.Object({
    order_id: Type.Optional(Type.Union([text(255), Type.Integer({ minimum: 0 })], { description: 'a string' })),
    value: Type.Optional(Type.Union([Type.Number({ minimum: -1e12, maximum: 1e12 }), Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 20 }), Type.Null()], { description: 'a number' })),
    currency: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Za-z]{3}$' }), Type.Null()], { description: 'a 3-letter ISO 4217 code such as "USD"' })),
    items: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 200 })),
  }, { maxProperties: 50 })),
  user_data: Type.Optional(Type.Object({
    email: optText(256), phone: optText(64), first_name: optText(256), last_name: optText(256),
    city: optText(256), state: optText(256), postal_code: optText(64), country: optText(64),
  })),
  context: Type.Optional(Type.Object({
    ip: optText(64), user_agent: optText(1024), page_url: optText(2048), referrer: optText(2048),
    gclid: optText(512), fbclid: optText(512), msclkid: optText(512), session_id: Type.Optional(text(128)),
  })),
});
export type ConvultraEvent = Static<typeof ConvultraEventSchema>;

export const MAX_BATCH = 100;

export const ConvultraBatchSchema = Type.Object({ events: Type.Array(ConvultraEventSchema, { minItems: 1, maxItems: MAX_BATCH }) });

export const ConvultraResponseSchema = Type.Object({
  success: Type.Boolean(),
  event_id: Type.Optional(Type.String({ description: 'evt_<ms>_<suffix>' })),
  event_ids: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Null()]))),
  results: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), success: Type.Boolean(), event_id: Type.Optional(Type.String()), duplicate: Type.Optional(Type.Boolean()), error: Type.Optional(Type.String()), code: Type.Optional(Type.String()) }))),
  error: Type.Optional(Type.String()),
  dryRun: Type.Optional(Type.Unknown({ description: 'With ?dryRun=true: what would be stored; nothing was.' })),
});
