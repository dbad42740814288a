import { Type, type Static } from '@sinclair/typebox';

const id = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });

const UUID = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'a UUID such as 550e8400-e29b-41d4-a716-446655440000 (the snippet\'s ot_vid)',
});
const ClientTime = (description: string) => Type.Integer({ description });

/** Browser event types: conversions come from backends, which hold a secret key. */
export const BROWSER_EVENT_TYPES = ['pageview', 'view', 'identify', 'custom'] as const;

/** What a batch says once for all its events; an event may give its own instead. */
const shared = {
  visitorId: Type.Optional(UUID),
  sessionId: Type.Optional(id(128)),
  sentAt: Type.Optional(ClientTime('When the browser sent the request, by its own clock (epoch ms); with each event\'s time it corrects the browser\'s clock skew.')),
};

/** One browser event (spec/api.md §7). */
export const CollectEventSchema = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$', description: '8 to 64 letters, digits, _ or - (a UUID): the event\'s idempotency key for its visitor' }),
  type: Type.Union(BROWSER_EVENT_TYPES.map((t) => Type.Literal(t)), { description: `one of ${BROWSER_EVENT_TYPES.map((t) => `"${t}"`).join(', ')}` }),
  time: ClientTime('When it happened, by the browser\'s clock (epoch ms).'),
  ...shared,
  name: Type.Optional(id(255, 'The event\'s name; required for custom (one named as a goal counts as a conversion).')),
  optimization: Type.Optional(id(128)),
  variation: Type.Optional(id(128)),
  userDomain: Type.Optional(id(255)),
  userId: Type.Optional(id(255)),
  url: Type.Optional(Type.String({ maxLength: 2048 })),
  referrer: Type.Optional(Type.String({ maxLength: 2048 })),
  properties: Type.Optional(Type.Record(
    Type.String({ maxLength: 128 }),
    Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()], { description: 'a string, number or boolean' }),
    { maxProperties: 50 },
  )),
}, { additionalProperties: false });
export type CollectEvent = Static<typeof CollectEventSchema>;

export const MAX_BATCH = 100;

/** The batch without its events: checked once, before the events are judged one by one. */
export const EnvelopeSchema = Type.Object({
  key: Type.Optional(Type.String({ maxLength: 200, description: 'The workspace\'s browser key, cl_pk_… (or ?key=).' })),
  ...shared,
  gpc: Type.Optional(Type.Boolean({ description: 'The browser sent Global Privacy Control.' })),
}, { additionalProperties: false });

export const CollectBodySchema = Type.Object({
  ...EnvelopeSchema.properties,
  events: Type.Array(CollectEventSchema, { minItems: 1, maxItems: MAX_BATCH }),
}, { additionalProperties: false });

const ErrorDetail = Type.Object({
  code: Type.String(), message: Type.String(), index: Type.Optional(Type.Integer()), field: Type.Optional(Type.String()),
  fields: Type.Optional(Type.Array(Type.String())),
});

export const CollectResponseSchema = Type.Object({
  ok: Type.Boolean(),
  stored: Type.Optional(Type.Integer({ description: 'Events stored by this request.' })),
  duplicates: Type.Optional(Type.Integer({ description: 'Events whose id this visitor sent before (a retry): stored once.' })),
  rejected: Type.Optional(Type.Array(ErrorDetail, { description: 'Events refused, by index; they are kept in the quarantine. Resending them does not help.' })),
  error: Type.Optional(ErrorDetail),
  dryRun: Type.Optional(Type.Unknown()),
});
