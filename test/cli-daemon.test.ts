// `bgp-ts daemon` lifecycle, in process with fake signals and a fake daemon:
// start with the validated config, SIGHUP reloads (or rejects) the file,
// SIGTERM/SIGINT stop gracefully, a second signal forces the exit.
import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { main, type CliIo, type DaemonHandle } from '../src/cli.js';
import type { BgpConfig } from '../src/config/schema.js';

const GOOD = 'routerId: 192.0.2.1\nasn: 64512\nlog: { level: debug }\nneighbors: [{ address: 192.0.2.2, asn: 64512 }]\n';

function harness(opts: { stopFails?: boolean; startFails?: boolean } = {}) {
  const signals = new EventEmitter();
  const logs: Record<string, unknown>[] = [];
  const calls: { started?: { config: BgpConfig; configPath: string; level: string }; reloads: BgpConfig[]; stops: number; stopReasons: (string | undefined)[] } = {
    reloads: [],
    stops: 0,
    stopReasons: [],
  };
  let release: (() => void) | undefined;
  const io: CliIo = {
    out: () => {},
    err: (t) => logs.push({ stderr: t }),
    onSignal: (s, h) => signals.on(s, h),
    offSignal: (s, h) => signals.off(s, h),
    createLogger: (level) => pino({ level }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
    startDaemon: async () => async (config, { logger, configPath }) => {
      if (opts.startFails) throw new Error('bind EADDRINUSE');
      calls.started = { config, configPath, level: logger.level };
      const handle: DaemonHandle = {
        reload: async (c) => {
          calls.reloads.push(c);
        },
        stop: (stopOpts) => {
          calls.stops++;
          calls.stopReasons.push(stopOpts?.reason);
          // As src/daemon/daemon.ts does: the daemon logs its own stop.
          logger.info({ event: 'daemon-stopping', ...(stopOpts?.reason ? { reason: stopOpts.reason } : {}) }, 'stopping');
          if (opts.stopFails) return Promise.reject(new Error('boom'));
          // Stop completes when the test releases it, so a second signal can arrive meanwhile.
          return new Promise<void>((r) => (release = r));
        },
      };
      return handle;
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'bgp-ts-daemon-'));
  const file = join(dir, 'bgp-ts.yaml');
  writeFileSync(file, GOOD);
  return { io, signals, logs, calls, file, release: () => release?.() };
}

const tick = () => new Promise((r) => setTimeout(r, 20));
async function until(cond: () => boolean) {
  for (let i = 0; i < 100 && !cond(); i++) await tick();
  expect(cond()).toBe(true);
}

describe('bgp-ts daemon (in process)', () => {
  it('starts with the validated config and the config log level; --log-level overrides it', async () => {
    const h = harness();
    const exit = main(['daemon', '--config', h.file], h.io);
    await until(() => h.calls.started !== undefined);
    expect(h.calls.started!.configPath).toBe(h.file);
    expect(h.calls.started!.config.neighbors[0]!.address).toBe('192.0.2.2');
    expect(h.calls.started!.level).toBe('debug');
    h.signals.emit('SIGTERM');
    h.release();
    expect(await exit).toBe(0);

    const h2 = harness();
    const exit2 = main(['daemon', '-c', h2.file, '--log-level', 'warn'], h2.io);
    await until(() => h2.calls.started !== undefined);
    expect(h2.calls.started!.level).toBe('warn');
    h2.signals.emit('SIGINT');
    h2.release();
    expect(await exit2).toBe(0);
  });

  it('SIGHUP with a valid file reloads; with an invalid one logs config-reload-rejected and keeps running', async () => {
    const h = harness();
    const exit = main(['daemon', '--config', h.file], h.io);
    await until(() => h.calls.started !== undefined);

    writeFileSync(h.file, GOOD.replace('192.0.2.2', '192.0.2.3'));
    h.signals.emit('SIGHUP');
    await until(() => h.calls.reloads.length === 1);
    expect(h.calls.reloads[0]!.neighbors[0]!.address).toBe('192.0.2.3');

    writeFileSync(h.file, GOOD.replace('asn: 64512\nlog', 'asn: 0\nlog'));
    h.signals.emit('SIGHUP');
    await until(() => h.logs.some((l) => l.event === 'config-reload-rejected'));
    const rejected = h.logs.find((l) => l.event === 'config-reload-rejected')!;
    expect(rejected.errors).toEqual(['asn: must be 1..4294967295 (line 2)']);
    expect(h.calls.reloads).toHaveLength(1);

    h.signals.emit('SIGTERM');
    h.release();
    expect(await exit).toBe(0);
    expect(h.calls.stops).toBe(1);
    // Handlers are removed after stopping.
    expect(h.signals.listenerCount('SIGHUP')).toBe(0);
  });

  it('SIGTERM: daemon-stopping is logged once, by the daemon, with the signal as the reason (issue 13)', async () => {
    const h = harness();
    const exit = main(['daemon', '--config', h.file], h.io);
    await until(() => h.calls.started !== undefined);
    h.signals.emit('SIGTERM');
    h.release();
    expect(await exit).toBe(0);
    expect(h.calls.stopReasons).toEqual(['SIGTERM']);
    expect(h.logs.filter((l) => l.event === 'daemon-stopping')).toEqual([expect.objectContaining({ reason: 'SIGTERM' })]);
  });

  it('a second stop signal while stopping exits at once with 1', async () => {
    const h = harness();
    const exit = main(['daemon', '--config', h.file], h.io);
    await until(() => h.calls.started !== undefined);
    h.signals.emit('SIGTERM');
    h.signals.emit('SIGINT');
    expect(await exit).toBe(1);
    expect(h.calls.stops).toBe(1);
    expect(h.logs.some((l) => l.event === 'daemon-stop-forced')).toBe(true);
  });

  it('a failing stop or start exits 1', async () => {
    const h = harness({ stopFails: true });
    const exit = main(['daemon', '--config', h.file], h.io);
    await until(() => h.calls.started !== undefined);
    h.signals.emit('SIGTERM');
    expect(await exit).toBe(1);

    const s = harness({ startFails: true });
    expect(await main(['daemon', '--config', s.file], s.io)).toBe(1);
    expect(s.logs.some((l) => l.event === 'daemon-start-failed')).toBe(true);
  });

  it('config warnings are logged at start', async () => {
    const h = harness();
    writeFileSync(h.file, `${GOOD}fib: { protocol: 12 }\n`);
    const exit = main(['daemon', '--config', h.file], h.io);
    await until(() => h.calls.started !== undefined);
    expect(h.logs.find((l) => l.event === 'config-warning')?.warning).toMatch(/^fib\.protocol: 12/);
    h.signals.emit('SIGTERM');
    h.release();
    expect(await exit).toBe(0);
  });
});
