// One set of Node flags for the daemon on every start path: the Debian
// wrapper (/usr/bin/bgp-ts, which the systemd unit runs), `npm start`, and the
// benchmarks' launchers, so a benchmark measures what ships.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { daemonNodeFlags, shippedNodeFlags, wrapperNodeFlags } from '../../bench/lib/node-flags.js';

const root = new URL('../../', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, root), 'utf8');

describe('the daemon\'s Node flags', () => {
  it('the wrapper caps the young generation and runs the packaged CLI', () => {
    const text = read('deploy/debian/bgp-ts');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(wrapperNodeFlags(text)).toEqual(['--max-semi-space-size=8']);
    expect(text).toMatch(/^exec node .* \/usr\/lib\/bgp-ts\/dist\/cli\.js "\$@"$/m);
  });

  it('the package installs the wrapper as /usr/bin/bgp-ts, which the unit starts', () => {
    expect(read('scripts/package-deb.sh')).toContain('install -m 0755 deploy/debian/bgp-ts "$stage/usr/bin/bgp-ts"');
    expect(read('deploy/bgp-ts.service')).toMatch(/^ExecStart=\/usr\/bin\/bgp-ts daemon /m);
  });

  it('npm start passes the same flags', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start']!;
    const m = /node ((?:--\S+ )*)dist\/cli\.js daemon/.exec(start);
    expect(m?.[1]!.trim().split(' ')).toEqual(shippedNodeFlags());
  });

  it('benchmarks default to the shipped flags; BGP_TS_NODE_FLAGS replaces them, empty for none', () => {
    expect(daemonNodeFlags({})).toEqual(shippedNodeFlags());
    expect(daemonNodeFlags({ BGP_TS_NODE_FLAGS: '--cpu-prof  --trace-gc' })).toEqual(['--cpu-prof', '--trace-gc']);
    expect(daemonNodeFlags({ BGP_TS_NODE_FLAGS: '' })).toEqual([]);
  });

  it('a wrapper without an exec node line is an error, not silently no flags', () => {
    expect(() => wrapperNodeFlags('#!/bin/sh\nexec /usr/lib/bgp-ts/dist/cli.js "$@"\n')).toThrow(/exec node/);
  });
});
