import type { Page } from '../context.js';
import { h, notice } from '../dom.js';
import { goalsSettings } from './settings-goals.js';
import { installSettings } from './settings-install.js';
import { keysSettings } from './settings-keys.js';
import { optimizationsSettings } from './settings-optimizations.js';
import { workspaceSettings } from './settings-workspace.js';
import { tabs } from './tabs.js';

const SUBPAGES: Record<string, readonly [title: string, page: Page]> = {
  keys: ['Keys', keysSettings],
  goals: ['Goals', goalsSettings],
  optimizations: ['Optimizations', optimizationsSettings],
  workspace: ['Workspace', workspaceSettings],
  install: ['Install', installSettings],
};

/** Settings: keys, goals, optimizations, workspace settings and the install guide, one tab each. */
export const settingsPage: Page = async (ctx) => {
  const sub = ctx.route.rest[0] ?? 'keys';
  const entry = SUBPAGES[sub];
  const nav = tabs('Settings', ctx.ws, `settings/${sub}`, Object.entries(SUBPAGES).map(([k, [title]]) => ['settings', [k], title] as const));
  if (entry === undefined) return h('section', {}, h('h1', {}, 'Settings'), nav, notice('error', `There is no settings page "${sub}".`));
  return h('section', { class: 'settings' }, h('h1', {}, `Settings: ${entry[0]}`), nav, await entry[1](ctx));
};
