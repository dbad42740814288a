import { Type, type Static } from '@sinclair/typebox';

const text = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });
const textOrInt = (max: number, description: string) => Type.Union([text(max), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })], { description });

/**
 * An Optimize off-site conversion (reference/optimize-offsite-conversions-api.txt). Fields the
 * vendor does not define are ignored, as the vendor does, so existing integrations keep working.
 */
export const OptimizeEventSchema = Type.Object({
  customerId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 0 })], { description: 'a string or a whole number (your account id)' })),
  eventName: Type.Optional(text(255, 'The custom goal\'s event name (apiName is its older alias).')),
  apiName: Type.Optional(text(255, 'Older alias of eventName.')),
  userDomain: textOrInt(255, 'a non-empty string (the domain given to setUserId)'),
  userId: textOrInt(255, 'a non-empty string (the id given to setUserId)'),
  actionId: textOrInt(255, 'a non-empty string that identifies this conversion'),
  actionTimestamp: Type.Union([Type.Number(), Type.String({ maxLength: 32 })], { description: 'UTC time of the conversion in UNIX milliseconds' }),
  value: Type.Optional(Type.Union([Type.Number({ minimum: -1e12, maximum: 1e12 }), Type.Null()], { description: 'a number or null' })),
});
export type OptimizeEvent = Static<typeof OptimizeEventSchema>;

export const OptimizeErrorSchema = Type.Object({
  error: Type.String({ description: 'Error code from the catalog, e.g. timestamp_in_seconds.' }),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  fields: Type.Optional(Type.Array(Type.String())),
});

export const OptimizeResponseSchema = Type.Unknown({ description: 'The submitted fields, echoed back as JSON.' });
