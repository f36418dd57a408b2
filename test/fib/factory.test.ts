// Which FIB writer the factory picks (src/fib/factory.ts): the dry-run
// recorder when fib.dryRun asks for it (even with privileges) or without
// privileges; and, privileged without a loadable native addon, an error that
// names the missing file and how to build it instead of a silent dry run.
// BGPTS_NATIVE points the addon lookup at a file that does not exist; vitest
// gives this file its own module registry, so nothing loaded the addon before.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { DryRunRecorder } from '../../src/fib/dryrun.js';
import { createFibWriter, FibUnavailableError } from '../../src/fib/factory.js';

const silent = pino({ level: 'silent' });
const MISSING = '/nonexistent/bgp-ts/build/Release/bgpts_native.node';

function config(fib: string) {
  const r = parseConfig(['routerId: 10.0.0.1', 'asn: 64512', fib].join('\n'));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

describe('FIB writer choice', () => {
  const saved = process.env['BGPTS_NATIVE'];
  beforeAll(() => void (process.env['BGPTS_NATIVE'] = MISSING));
  afterAll(() => (saved === undefined ? delete process.env['BGPTS_NATIVE'] : void (process.env['BGPTS_NATIVE'] = saved)));

  it('fib.dryRun: true is a dry run even when privileged, and says why', async () => {
    const b = await createFibWriter(config('fib: { dryRun: true }'), { logger: silent, privileged: true });
    expect(b.mode).toBe('dry-run');
    expect(b.reason).toBe('fib.dryRun is true');
    expect(b.writer).toBeInstanceOf(DryRunRecorder);
  });

  it('unprivileged is a dry run, and says why', async () => {
    const b = await createFibWriter(config('fib: { enabled: true }'), { logger: silent, privileged: false });
    expect(b).toMatchObject({ mode: 'dry-run', reason: 'not root and no CAP_NET_ADMIN' });
  });

  it('privileged without the addon is an error naming the file and the fix, not a dry run', async () => {
    const attempt = createFibWriter(config('fib: { enabled: true }'), { logger: silent, privileged: true });
    await expect(attempt).rejects.toBeInstanceOf(FibUnavailableError);
    await expect(attempt).rejects.toThrow(MISSING);
    await expect(attempt).rejects.toThrow(/npm rebuild.*or set fib\.dryRun: true/);
  });
});
