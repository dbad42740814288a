import type { DialectName } from '../core/index.js';
import { collect } from './collect/index.js';
import { convultra } from './convultra/index.js';
import { native } from './native/index.js';
import { optimize } from './optimize/index.js';
import type { Dialect } from './types.js';
import { webanalyzer } from './webanalyzer/index.js';

/** Every server-side dialect. Adding one means adding its folder and a line here. */
export const DIALECTS: readonly Dialect[] = [native, optimize, convultra, webanalyzer];

/** The browser's dialect: its routes are mounted with CORS by server/collect-routes.ts, not with the others. */
export const BROWSER_DIALECTS: readonly Dialect[] = [collect];

/** Any dialect by name, the browser's included (replaying quarantined events needs them all). */
export function dialectByName(name: DialectName): Dialect | undefined {
  return [...DIALECTS, ...BROWSER_DIALECTS].find((d) => d.name === name);
}
