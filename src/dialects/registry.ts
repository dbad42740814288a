import type { DialectName } from '../core/index.js';
import { convultra } from './convultra/index.js';
import { native } from './native/index.js';
import { optimize } from './optimize/index.js';
import type { Dialect } from './types.js';
import { webanalyzer } from './webanalyzer/index.js';

/** Every server-side dialect. Adding one means adding its folder and a line here. */
export const DIALECTS: readonly Dialect[] = [native, optimize, convultra, webanalyzer];

export function dialectByName(name: DialectName): Dialect | undefined {
  return DIALECTS.find((d) => d.name === name);
}
