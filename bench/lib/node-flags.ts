// The Node flags the benchmarks start bgp-ts with: those of the shipped start
// path, read from the Debian package's /usr/bin/bgp-ts wrapper
// (deploy/debian/bgp-ts, its `exec node <flags> .../dist/cli.js` line), so a
// benchmark measures the daemon as it runs in production. BGP_TS_NODE_FLAGS
// overrides them (space separated; set it empty for none).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WRAPPER = join('deploy', 'debian', 'bgp-ts');

/** The flags between `node` and the CLI in a wrapper's exec line. */
export function wrapperNodeFlags(text: string): string[] {
  const line = text.split('\n').find((l) => /^exec\s+node\s/.test(l.trim()));
  if (!line) throw new Error(`${WRAPPER}: no "exec node ..." line`);
  const words = line.trim().split(/\s+/).slice(2);
  const cli = words.findIndex((w) => w.endsWith('cli.js'));
  if (cli < 0) throw new Error(`${WRAPPER}: the exec line names no cli.js`);
  return words.slice(0, cli);
}

/** The checkout's root: the nearest ancestor holding deploy/debian/bgp-ts (source and build/bench alike). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, WRAPPER))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`${WRAPPER} not found above ${fileURLToPath(import.meta.url)}`);
}

export function shippedNodeFlags(): string[] {
  return wrapperNodeFlags(readFileSync(join(repoRoot(), WRAPPER), 'utf8'));
}

/** BGP_TS_NODE_FLAGS when set (even empty), else the shipped flags. */
export function daemonNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const own = env['BGP_TS_NODE_FLAGS'];
  if (own !== undefined) return own.split(' ').filter((f) => f !== '');
  return shippedNodeFlags();
}
