#!/usr/bin/env node
// The bgp-ts command line (DESIGN.md, "The contract"): the only module that
// reads argv and calls process.exit. Subcommands live in one table: `daemon`
// and `config check`, then the API clients (status, peers, peer, routes,
// explain, fib, announce, withdraw, reset, shutdown, enable, config reload),
// which talk to the daemon's HTTP API (src/api/) with global fetch.
//
// Exit codes (EXIT below, printed by --help): 0 success, 1 failure (bad
// config, daemon error, the API answered with an error such as not found),
// 2 usage error, 3 the daemon's API could not be reached.
// Signals under `daemon`: SIGTERM/SIGINT stop gracefully (a second one exits at
// once); SIGHUP re-reads the config file: invalid -> logged and ignored
// (event config-reload-rejected), valid -> handed to the daemon's reload, which
// may still refuse a change it cannot apply live (routerId, asn, ...; it logs
// config-reload-rejected too); applied -> event config-reloaded.

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { LevelWithSilent } from 'pino';
import { stringify as stringifyYaml } from 'yaml';
import { formatConfigErrors, loadConfigFile, type ConfigError } from './config/load.js';
import { createLogger, type Logger } from './lib/log.js';
import { checkDatastoreFile, checkWithDatastore, openDatastoreConfig, type ClusterSync } from './daemon/cluster-sync.js';
import { packageVersion } from './lib/version.js';
import { API_COMMANDS, API_OPTIONS_HELP, EXIT, parse, UsageError, type Command } from './cli/commands.js';
import type { CliIo, DaemonHandle, StartDaemon } from './cli/io.js';
import { configReferenceMarkdown, readmeKeyList } from './cli/config-reference.js';

export { EXIT, UsageError, type Command };
export type { CliIo, DaemonHandle, StartDaemon } from './cli/io.js';

export const DEFAULT_CONFIG_PATH = '/etc/bgp-ts/bgp-ts.yaml';
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;


const COMMANDS: readonly Command[] = [
  {
    name: 'daemon',
    args: `[--config FILE] [--log-level LEVEL]`,
    summary: `run the BGP daemon (config default ${DEFAULT_CONFIG_PATH})`,
    run: (argv, io) => {
      const { values } = parse(argv, { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' } }, 0);
      const level = values['log-level'] as string | undefined;
      if (level !== undefined && !(LEVELS as readonly string[]).includes(level))
        throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
      return runDaemon((values.config as string | undefined) ?? DEFAULT_CONFIG_PATH, level as LevelWithSilent | undefined, io);
    },
  },
  {
    name: 'config check',
    args: 'FILE [--skip-secrets] [--datastore]',
    summary: 'validate a config file; prints "FILE: ok" and any warnings, or the errors (exit 1); --skip-secrets: api.tokenFile unread (a container\'s file); --datastore: list the datastore once and print the merged config',
    run: async (argv, io) => {
      const { positionals, values } = parse(argv, { 'skip-secrets': { type: 'boolean' }, datastore: { type: 'boolean' } }, 1);
      const file = positionals[0]!;
      if (values.datastore) {
        const { loaded, view } = await checkWithDatastore(file, io.createLogger('warn'));
        for (const r of (view?.supplied as { rejected?: { key: string; error: string }[] } | undefined)?.rejected ?? []) io.out(`${file}: warning: datastore ${r.key}: ${r.error}\n`);
        if (!loaded.ok) {
          for (const line of formatConfigErrors(loaded.errors)) io.err(`${file}: ${line}\n`);
          return 1;
        }
        io.out(`# ${file} merged with the datastore (${view?.endpoints.join(', ')}, revision ${view?.revision})\n${stringifyYaml(JSON.parse(JSON.stringify(loaded.config, (k, v: unknown) => ((k === 'password' || k === 'token') && typeof v === 'string' ? '********' : v))))}`);
        io.out(`${file}: ok\n`);
        return 0;
      }
      const skipped: string[] = [];
      // A stand-in long enough for the length check; never used beyond this validation.
      const readSecret = (path: string) => (skipped.push(path), 'x'.repeat(32));
      const parseOpts = values['skip-secrets'] ? { readSecret } : {};
      const result = (await checkDatastoreFile(file, parseOpts)) ?? (await loadConfigFile(file, parseOpts));
      for (const path of skipped) io.out(`${file}: warning: api.tokenFile: ${path} not read (--skip-secrets)\n`);
      for (const line of formatConfigErrors(result.warnings)) io.out(`${file}: warning: ${line}\n`);
      if (!result.ok) {
        for (const line of formatConfigErrors(result.errors)) io.err(`${file}: ${line}\n`);
        return 1;
      }
      io.out(`${file}: ok\n`);
      return 0;
    },
  },
  {
    name: 'config reference',
    args: '[--readme]',
    summary: 'print every config key with its type, default and meaning (Markdown, from the schema); --readme: the short key list',
    run: async (argv, io) => {
      const { values } = parse(argv, { readme: { type: 'boolean' } }, 0);
      io.out(values.readme ? `${readmeKeyList()}\n` : configReferenceMarkdown());
      return 0;
    },
  },
  ...API_COMMANDS,
];



export function usage(): string {
  // Long synopses put their summary on the next line.
  const WIDTH = 44;
  const synopses = COMMANDS.map((c) => `${c.name} ${c.args}`.trimEnd());
  const width = Math.min(WIDTH, Math.max(...synopses.filter((s) => s.length <= WIDTH).map((s) => s.length)));
  const lines = COMMANDS.map((c, i) => {
    const syn = synopses[i]!;
    return syn.length <= width ? `  bgp-ts ${syn.padEnd(width)}  ${c.summary}` : `  bgp-ts ${syn}
  ${' '.repeat(width + 9)}${c.summary}`;
  });
  return [
    'Usage:',
    ...lines,
    `  bgp-ts ${'--help'.padEnd(width)}  show this help`,
    `  bgp-ts ${'--version'.padEnd(width)}  print the version`,
    '',
    API_OPTIONS_HELP,
    'Exit codes:',
    `  ${EXIT.ok}  success`,
    `  ${EXIT.failure}  failure: invalid config, daemon error, or the API answered with an error (e.g. not found)`,
    `  ${EXIT.usage}  usage error (unknown command or option, wrong arguments)`,
    `  ${EXIT.unreachable}  the daemon's API could not be reached`,
    '',
  ].join('\n');
}

export function version(): string {
  return packageVersion();
}

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(usage());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    io.out(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (!command && group.length > 0) {
    io.err(`bgp-ts ${first}: expected one of: ${group.map((c) => c.name.split(' ')[1]).join(', ')}\n\n${usage()}`);
    return 2;
  }
  if (!command) {
    io.err(`${first === undefined ? 'no command given' : `unknown command "${argv.slice(0, 2).join(' ')}"`}\n\n${usage()}`);
    return 2;
  }
  const rest = argv.slice(command.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`Usage: bgp-ts ${command.name} ${command.args}\n  ${command.summary}\n${command.api ? `\n${API_OPTIONS_HELP}` : ''}`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`bgp-ts ${command.name}: ${err.message}\nUsage: bgp-ts ${command.name} ${command.args}\n`);
      return 2;
    }
    throw err;
  }
}

/**
 * `bgp-ts daemon`: validate, start, then serve signals until stopped.
 * Resolves with the exit code once the daemon has stopped.
 */
export async function runDaemon(configPath: string, levelOverride: LevelWithSilent | undefined, io: CliIo): Promise<number> {
  // with a datastore key: the file merged with the datastore (src/daemon/cluster-sync.ts)
  const ds = await openDatastoreConfig(configPath, (level) => io.createLogger(levelOverride ?? level));
  const cluster = ds?.cluster;
  const loaded = ds ? ds.loaded : await loadConfigFile(configPath);
  if (!loaded.ok) {
    for (const line of formatConfigErrors(loaded.errors)) io.err(`${configPath}: ${line}\n`);
    await cluster?.stop();
    return 1;
  }
  const logger = cluster?.logger ?? io.createLogger(levelOverride ?? (loaded.config.log.level as LevelWithSilent));
  logWarnings(logger, configPath, loaded.warnings);
  let daemon: DaemonHandle;
  try {
    const start = await io.startDaemon();
    daemon = await start(loaded.config, { logger, configPath, ...(cluster ? { cluster } : {}) });
  } catch (err) {
    logger.fatal({ event: 'daemon-start-failed', err }, 'daemon failed to start');
    return 1;
  }

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    // Reloads run one at a time; a SIGHUP during a reload queues one more.
    let reloading: Promise<void> = Promise.resolve();

    const onStop = (signal: string) => () => {
      if (stopping) {
        logger.warn({ event: 'daemon-stop-forced', signal }, 'second stop signal: exiting now');
        cleanup();
        resolveExit(1);
        return;
      }
      stopping = true;
      // daemon.stop() logs daemon-stopping itself (reason: the signal): one line per event.
      daemon.stop({ reason: signal }).then(
        () => {
          cleanup();
          resolveExit(0);
        },
        (err: unknown) => {
          logger.error({ event: 'daemon-stop-failed', err }, 'error while stopping');
          cleanup();
          resolveExit(1);
        },
      );
    };
    const onTerm = onStop('SIGTERM');
    const onInt = onStop('SIGINT');
    const onHup = () => {
      reloading = reloading.then(() => reload(configPath, logger, daemon, () => stopping, cluster));
    };
    const cleanup = () => {
      io.offSignal('SIGTERM', onTerm);
      io.offSignal('SIGINT', onInt);
      io.offSignal('SIGHUP', onHup);
    };
    io.onSignal('SIGTERM', onTerm);
    io.onSignal('SIGINT', onInt);
    io.onSignal('SIGHUP', onHup);
  });
}

async function reload(configPath: string, logger: Logger, daemon: DaemonHandle, stopping: () => boolean, cluster?: ClusterSync): Promise<void> {
  if (stopping()) return;
  const loaded = cluster ? await cluster.load() : await loadConfigFile(configPath);
  if (!loaded.ok) {
    logger.error(
      { event: 'config-reload-rejected', configPath, errors: formatConfigErrors(loaded.errors) },
      'config reload rejected; keeping the running config',
    );
    return;
  }
  logWarnings(logger, configPath, loaded.warnings);
  try {
    const outcome = await daemon.reload(loaded.config);
    if (outcome && !outcome.ok) return; // the daemon logged config-reload-rejected with its reasons
    logger.info({ event: 'config-reloaded', configPath }, 'config reloaded');
  } catch (err) {
    logger.error({ event: 'config-reload-failed', configPath, err }, 'config reload failed');
  }
}

function logWarnings(logger: Logger, configPath: string, warnings: readonly ConfigError[]): void {
  for (const warning of formatConfigErrors(warnings)) logger.warn({ event: 'config-warning', configPath, warning }, warning);
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  onSignal: (signal, handler) => process.on(signal, handler),
  offSignal: (signal, handler) => process.off(signal, handler),
  createLogger: (level) => createLogger({ level }),
  startDaemon: async () => {
    // Resolved at run time so the CLI builds before src/daemon/daemon.ts exists; the
    // shape is the StartDaemon contract above.
    const specifier = new URL('./daemon/daemon.js', import.meta.url).href;
    const mod = (await import(specifier)) as { startDaemon: StartDaemon };
    return mod.startDaemon;
  },
};

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), processIo).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bgp-ts: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
