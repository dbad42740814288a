import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AdminService } from '../admin/index.js';
import { ConfigError, loadConfig, type Config, type Flags } from '../config/index.js';
import { ServiceError, type Clock } from '../core/index.js';
import { clockFor } from '../server/index.js';
import { openStore, type Store } from '../store/index.js';

/** Where a command writes; tests pass their own. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Writes to stderr as is (no newline added): for a progress bar redrawn in place. */
  errRaw: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (tables) and whether stderr is (progress bars). */
  isTty: boolean;
  errIsTty: boolean;
}

export const processIo = (): Io => ({
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  errRaw: (t) => process.stderr.write(t),
  env: process.env,
  isTty: process.stdout.isTTY === true,
  errIsTty: process.stderr.isTTY === true,
});

/** A refusal to print as one sentence, with the exit code. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

export const COMMON_OPTIONS = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(usageMessage(err));
  }
}

/** node:util parseArgs' refusal as one sentence (its "argument is ambiguous" text runs to three lines). */
function usageMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const noValue = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(text);
  if (noValue !== null) return `${noValue[1]} needs a value.`;
  return text.split('\n')[0]!.replace(/\. To specify.*$/, '.');
}

export function configFrom(io: Io, values: { data?: string | undefined }, extra: Flags = {}): Readonly<Config> {
  try {
    return loadConfig(io.env, { ...(values.data !== undefined ? { data: values.data } : {}), ...extra });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** Opens the store the flags name, runs `fn` with the admin service, and always closes the store. */
export async function withAdmin<T>(config: Readonly<Config>, fn: (admin: AdminService, store: Store, clock: Clock) => Promise<T>): Promise<T> {
  const clock = clockFor(config);
  const store = await openStore(config, clock);
  try {
    return await fn(new AdminService(store, clock), store, clock);
  } catch (err) {
    if (err instanceof ServiceError) throw new UsageError(err.message, 1);
    throw err;
  } finally {
    await store.close();
  }
}

/** The workspace a command acts on: --workspace, or the only one there is. */
export async function pickWorkspace(admin: AdminService, given: string | undefined): Promise<string> {
  if (given !== undefined) {
    await admin.workspace(given);
    return given;
  }
  const all = await admin.listWorkspaces();
  if (all.length === 1) return all[0]!.id;
  if (all.length === 0) throw new UsageError('There is no workspace yet; run `closeloop init` first.', 1);
  throw new UsageError(`There are ${all.length} workspaces; say which with --workspace (${all.slice(0, 5).map((w) => w.id).join(', ')}${all.length > 5 ? ', …' : ''}).`);
}

/**
 * A command with actions on one workspace (`keys create`, `goals list`, …): prints its help (exit 0
 * with --help, 2 without an action), opens the store, picks the workspace and runs the action.
 */
export async function workspaceCommand(
  io: Io, help: string, values: { workspace?: string | undefined; data?: string | undefined; help?: boolean | undefined }, positionals: string[],
  run: (action: string, args: (string | undefined)[], admin: AdminService, workspaceId: string) => Promise<number>,
): Promise<number> {
  const [action, ...args] = positionals;
  if (values.help === true || action === undefined) {
    io.out(help);
    return values.help === true ? 0 : 2;
  }
  return withAdmin(configFrom(io, values), async (admin) => run(action, args, admin, await pickWorkspace(admin, values.workspace)));
}

/** Columns padded to their widest cell. */
export function table(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));
