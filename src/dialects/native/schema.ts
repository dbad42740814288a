import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES } from '../../core/index.js';

const id = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });

export const PropertyValueSchema = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()], { description: 'a string, number or boolean' });

export const NativeEventSchema = Type.Object(
  {
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)), { description: `one of ${EVENT_TYPES.map((t) => `"${t}"`).join(', ')}` }),
    name: Type.Optional(id(255, 'Event or goal API name; required for conversion and custom.')),
    timestamp: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 64 })], { description: 'epoch milliseconds or an ISO 8601 string with a zone' })),
    visitorId: Type.Optional(id(128)),
    sessionId: Type.Optional(id(128)),
    userDomain: Type.Optional(id(255)),
    userId: Type.Optional(id(255)),
    optimization: Type.Optional(id(128)),
    variation: Type.Optional(id(128)),
    value: Type.Optional(Type.Number({ minimum: -1e12, maximum: 1e12 })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}$', description: 'a 3-letter ISO 4217 code such as "USD"' })),
    idempotencyKey: Type.Optional(id(255, 'Unique per workspace for as long as the event is kept; strongly advised for conversions.')),
    url: Type.Optional(Type.String({ maxLength: 2048 })),
    referrer: Type.Optional(Type.String({ maxLength: 2048 })),
    properties: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), PropertyValueSchema, { maxProperties: 50 })),
    userData: Type.Optional(Type.Object({
      email: Type.Optional(Type.String({ maxLength: 256 })),
      phone: Type.Optional(Type.String({ maxLength: 64 })),
      firstName: Type.Optional(Type.String({ maxLength: 256 })),
      lastName: Type.Optional(Type.String({ maxLength: 256 })),
      city: Type.Optional(Type.String({ maxLength: 256 })),
      state: Type.Optional(Type.String({ maxLength: 256 })),
      postalCode: Type.Optional(Type.String({ maxLength: 64 })),
      country: Type.Optional(Type.String({ maxLength: 64 })),
    }, { additionalProperties: false, description: 'PII: normalised and SHA-256 hashed before it is stored' })),
  },
  { additionalProperties: false },
);
export type NativeEvent = Static<typeof NativeEventSchema>;

export const MAX_BATCH = 500;

export const NativeBodySchema = Type.Union([
  NativeEventSchema,
  Type.Object({ events: Type.Array(NativeEventSchema, { minItems: 1, maxItems: MAX_BATCH }) }, { additionalProperties: false }),
]);

const ErrorDetail = Type.Object({
  code: Type.String(), message: Type.String(), index: Type.Optional(Type.Integer()), field: Type.Optional(Type.String()),
  fields: Type.Optional(Type.Array(Type.String())),
});

export const NativeResponseSchema = Type.Object({
  ok: Type.Boolean(),
  ids: Type.Array(Type.Union([Type.Integer(), Type.Null()]), { description: 'Stored ids by index; null for a rejected event.' }),
  duplicates: Type.Integer({ description: 'Events whose idempotency key was seen before with the same content.' }),
  results: Type.Optional(Type.Array(Type.Object({
    index: Type.Integer(), status: Type.Union([Type.Literal('stored'), Type.Literal('duplicate'), Type.Literal('rejected')]),
    id: Type.Optional(Type.Integer()), error: Type.Optional(ErrorDetail),
  }))),
  error: Type.Optional(ErrorDetail),
  dryRun: Type.Optional(Type.Unknown()),
});
