import { attribute, ATTRIBUTE_HELP, EXPLAIN_HELP, explainCommand, results, RESULTS_HELP } from './attribution.js';
import { goals, GOALS_HELP } from './goals.js';
import { init, INIT_HELP } from './init.js';
import { keys, KEYS_HELP } from './keys.js';
import { optimizations, OPTIMIZATIONS_HELP } from './optimizations.js';
import { serve, SERVE_HELP } from './serve.js';
import { processIo, UsageError, type Io } from './context.js';

export { processIo, type Io } from './context.js';

const COMMANDS: Record<string, { run: (argv: string[], io: Io) => Promise<number>; help: string; summary: string }> = {
  serve: { run: serve, help: SERVE_HELP, summary: 'run the service (embedded SQLite store under --data)' },
  init: { run: init, help: INIT_HELP, summary: 'create a workspace with a server and a browser key' },
  keys: { run: keys, help: KEYS_HELP, summary: 'create, list or revoke API keys' },
  goals: { run: goals, help: GOALS_HELP, summary: 'create, rename or list goals' },
  optimizations: { run: optimizations, help: OPTIMIZATIONS_HELP, summary: 'create, list or change the status of optimizations' },
  attribute: { run: attribute, help: ATTRIBUTE_HELP, summary: 'run attribution now and print the run summary' },
  results: { run: results, help: RESULTS_HELP, summary: 'print an optimization\'s per-variation results' },
  explain: { run: explainCommand, help: EXPLAIN_HELP, summary: 'say why a conversion was or was not attributed' },
};

const USAGE = `Usage: closeloop <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(15)}${c.summary}`).join('\n')}

Every command takes --help, --data DIR (default ./data) and --json.`;

/** Runs the command line; resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  // Own keys only: "constructor" or "toString" is not a command.
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.err(`closeloop: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`closeloop ${name}: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
