// What the interop tests need from the machine: root, a working `ip netns`,
// the peer binaries, and a built daemon. `missingPrerequisite` names the first
// thing missing; `interopGate` turns that into a skip reason locally and into
// a failure under CI=true (.ci/run installs everything, so a gap there is a bug).

import { accessSync, constants, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { CLI_PATH } from './bgp-ts.js';
import { FRR_BGPD } from './frr.js';
import type { PeerKind } from './peer.js';

const BINARIES: Record<PeerKind, readonly string[]> = {
  bird: ['bird', 'birdc'],
  frr: [FRR_BGPD, 'vtysh'],
  gobgp: ['gobgpd', 'gobgp'],
};

function executable(name: string): boolean {
  const candidates = name.includes('/')
    ? [name]
    : [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'].map((d) => join(d, name));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The first missing prerequisite, or undefined when the interop tests can run. */
export function missingPrerequisite(peers: readonly PeerKind[], opts: { needDaemon?: boolean } = {}): string | undefined {
  if (process.platform !== 'linux') return 'interop tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'interop tests need root (network namespaces)';
  if (!executable('ip')) return 'iproute2 `ip` not found';
  const probe = `bgpts-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (e) {
    return `\`ip netns\` unusable: ${(e as Error).message.trim()}`;
  }
  for (const kind of peers) {
    for (const bin of BINARIES[kind]) if (!executable(bin)) return `${kind}: ${bin} not found (apt-get install ${kind === 'bird' ? 'bird2' : kind === 'gobgp' ? 'gobgpd' : 'frr'})`;
  }
  if ((opts.needDaemon ?? true) && !existsSync(CLI_PATH)) return `${CLI_PATH} missing (npm run build)`;
  return undefined;
}

/**
 * The skip reason for `describe.skipIf`, printed; under CI=true a missing
 * prerequisite throws instead, failing the run.
 */
export function interopGate(peers: readonly PeerKind[], opts: { needDaemon?: boolean } = {}): string | undefined {
  const reason = missingPrerequisite(peers, opts);
  if (reason === undefined) return undefined;
  if (process.env['CI'] === 'true') throw new Error(`interop prerequisite missing under CI: ${reason}`);
  console.warn(`[interop skipped] ${reason}`);
  return reason;
}
