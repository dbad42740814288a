import { w } from './env.js';
import { getJson, setJson } from './storage.js';

/** What GET /collect/config answers. */
export interface TrackerConfig {
  sessionTimeoutMinutes: number;
  sessionMaxHours: number;
  honorGlobalPrivacyControl: boolean;
  optimizations: { key: string; variations: { key: string; weight: number }[] }[];
}

const CONFIG = 'cl_c';
/** How long a fetched config is used without asking again: a paused optimization stops being assigned within this. */
const FRESH_MS = 300_000;

/**
 * The config cached for this key (to start with at once), and the latest one: the cached one
 * while younger than five minutes, else fetched (and cached), else — the server out of
 * reach — the cached one, stale.
 */
export function loadConfig(url: string, key: string): [TrackerConfig | undefined, Promise<TrackerConfig | undefined>] {
  const stored = getJson<{ k: string; t: number; c: TrackerConfig }>(CONFIG);
  const cached = stored?.k === key ? stored.c : undefined;
  if (cached && Date.now() - stored!.t < FRESH_MS) return [cached, Promise.resolve(cached)];
  const latest = w.fetch(url, {})
    .then((res) => (res.ok ? (res.json() as Promise<TrackerConfig>) : cached))
    .then((c) => {
      if (c !== cached) setJson(CONFIG, { k: key, t: Date.now(), c });
      return c;
    }, () => cached);
  return [cached, latest];
}
