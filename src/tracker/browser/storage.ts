import { w } from './env.js';

/**
 * localStorage, or memory when the page may not use it (storage disabled, sandboxed frames,
 * Safari's old private mode throws on write): the snippet then still works for the page's life.
 * An empty string is an absent value (what `reset` leaves).
 */
const memory: Record<string, string> = {};

export function get(key: string): string {
  try {
    return (w.localStorage[key] as string | undefined) ?? '';
  } catch {
    return memory[key] ?? '';
  }
}

export function set(key: string, value: string): void {
  memory[key] = value;
  try {
    w.localStorage[key] = value;
  } catch {
    // kept in memory only
  }
}

/** A stored JSON value, or undefined when absent or unreadable. */
export function getJson<T>(key: string): T | undefined {
  try {
    return JSON.parse(get(key)) as T;
  } catch {
    return undefined;
  }
}

export const setJson = (key: string, value: unknown): void => set(key, JSON.stringify(value));
