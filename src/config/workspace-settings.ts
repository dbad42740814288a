import { Type, type Static } from '@sinclair/typebox';

/** Per-workspace settings (spec/api.md §8). Every field is optional; absent means the default. */
export const WorkspaceSettingsSchema = Type.Object(
  {
    maxEventAgeDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660, description: 'Events older than this many days are refused.' })),
    maxClockSkewMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'How far in the future an event may be stamped.' })),
    rateLimitPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Requests per minute per key: a token bucket refilled at that rate and holding one second\'s worth, so bursts above limit/60 wait.' })),
    monthlyQuota: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Accepted events per calendar month (UTC); null for none.' })),
    serverSideEnabled: Type.Optional(Type.Boolean()),
    sessionTimeoutMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    sessionMaxHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 168 })),
    allowedOrigins: Type.Optional(Type.Array(Type.String({ maxLength: 255, pattern: '^https?://[^/]+$', description: 'an origin such as "https://shop.example.com" (no path); "https://*.example.com" admits its subdomains' }), { maxItems: 100, description: 'Origins whose pages may send browser events (POST /collect); empty: any.' })),
    honorGlobalPrivacyControl: Type.Optional(Type.Boolean({ description: 'When true, the snippet records nothing for a browser that sends Global Privacy Control, and /collect stores nothing from one.' })),
    attributionSchedule: Type.Optional(Type.String({ maxLength: 100, description: 'Cron expression, UTC.' })),
    attributionIntervalSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 10, maximum: 86_400 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type WorkspaceSettingsInput = Static<typeof WorkspaceSettingsSchema>;

export interface WorkspaceSettings {
  maxEventAgeDays: number;
  maxClockSkewMs: number;
  rateLimitPerMinute: number;
  monthlyQuota: number | null;
  serverSideEnabled: boolean;
  sessionTimeoutMinutes: number;
  sessionMaxHours: number;
  allowedOrigins: string[];
  honorGlobalPrivacyControl: boolean;
  attributionSchedule: string;
  attributionIntervalSeconds: number | null;
}

export const DEFAULT_WORKSPACE_SETTINGS: Readonly<WorkspaceSettings> = Object.freeze({
  maxEventAgeDays: 7,
  maxClockSkewMs: 60_000,
  rateLimitPerMinute: 6000,
  monthlyQuota: null,
  serverSideEnabled: true,
  sessionTimeoutMinutes: 30,
  sessionMaxHours: 24,
  allowedOrigins: [],
  honorGlobalPrivacyControl: false,
  attributionSchedule: '0 0 * * *',
  attributionIntervalSeconds: null,
});

/** The settings in force: the stored overrides laid over the defaults. */
export function effectiveSettings(stored: WorkspaceSettingsInput): WorkspaceSettings {
  const merged: WorkspaceSettings = { ...DEFAULT_WORKSPACE_SETTINGS, allowedOrigins: [...DEFAULT_WORKSPACE_SETTINGS.allowedOrigins] };
  for (const [key, value] of Object.entries(stored)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return merged;
}
