import { Type, type Static } from '@sinclair/typebox';
import { WorkspaceSettingsSchema } from '../config/index.js';
import { DIALECTS, EVENT_TYPES } from '../core/index.js';

export const WORKSPACE_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const KEY_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';

export const WorkspaceIdSchema = Type.String({ pattern: WORKSPACE_ID_PATTERN, description: '1 to 64 letters, digits, _ or -' });

export const CreateWorkspaceSchema = Type.Object({
  id: WorkspaceIdSchema,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  settings: Type.Optional(WorkspaceSettingsSchema),
}, { additionalProperties: false });
export type CreateWorkspace = Static<typeof CreateWorkspaceSchema>;

export const PatchWorkspaceSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  settings: Type.Optional(WorkspaceSettingsSchema),
}, { additionalProperties: false });
export type PatchWorkspace = Static<typeof PatchWorkspaceSchema>;

export const CreateKeySchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Union([Type.Literal('server'), Type.Literal('browser')], { description: '"server" or "browser"' }),
  rateLimitPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
}, { additionalProperties: false });
export type CreateKey = Static<typeof CreateKeySchema>;

export const GoalApiNameSchema = Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$', description: 'a name without leading or trailing spaces' });

export const CreateGoalSchema = Type.Object({
  apiName: GoalApiNameSchema,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
}, { additionalProperties: false });
export type CreateGoal = Static<typeof CreateGoalSchema>;

export const RenameGoalSchema = Type.Object({ apiName: GoalApiNameSchema }, { additionalProperties: false });

export const CreateOptimizationSchema = Type.Object({
  key: Type.String({ pattern: KEY_PATTERN, description: '1 to 128 letters, digits, _ . : or -' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  variations: Type.Array(Type.Object({
    key: Type.String({ pattern: KEY_PATTERN }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 })),
  }, { additionalProperties: false }), { minItems: 2, maxItems: 50 }),
  goals: Type.Array(GoalApiNameSchema, { minItems: 1, maxItems: 50 }),
  primaryGoal: Type.Optional(GoalApiNameSchema),
  control: Type.Optional(Type.String({ pattern: KEY_PATTERN })),
  status: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('paused'), Type.Literal('ended')])),
}, { additionalProperties: false });
export type CreateOptimization = Static<typeof CreateOptimizationSchema>;

export const PatchOptimizationSchema = Type.Object({
  status: Type.Union([Type.Literal('running'), Type.Literal('paused'), Type.Literal('ended')], { description: '"running", "paused" or "ended"' }),
}, { additionalProperties: false });

/** GET …/events filters; each narrows the list, empty ones are ignored. */
export const EventFiltersSchema = Type.Object({
  type: Type.Optional(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)), { description: 'pageview, view, identify, conversion or custom' })),
  name: Type.Optional(Type.String({ maxLength: 255, description: 'event or goal API name' })),
  dialect: Type.Optional(Type.Union(DIALECTS.map((d) => Type.Literal(d)), { description: 'the dialect that received the event: native, optimize, convultra, webanalyzer or collect' })),
  visitorId: Type.Optional(Type.String({ maxLength: 128 })),
  userDomain: Type.Optional(Type.String({ maxLength: 255, description: 'with or without userId' })),
  userId: Type.Optional(Type.String({ maxLength: 255 })),
});
export type EventFilters = Static<typeof EventFiltersSchema>;
