// What the interop tests need from the machine: root, a working `ip netns`,
// every external binary they run (each named with the Debian package that
// ships it, all of them in .ci/packages.txt), and a built daemon.
// `missingPrerequisite` names the first thing missing; `interopGate` turns that
// into a skip reason locally and into a failure under CI=true (.ci/run installs
// everything, so a gap there is a bug).

import { accessSync, constants, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { CLI_PATH } from './bgp-ts.js';
import { FRR_BGPD } from './frr.js';
import type { PeerKind } from './peer.js';

/** A binary a test runs and the Debian package that ships it. */
export interface RequiredBinary {
  readonly binary: string;
  readonly debianPackage: string;
}

/** Run by every interop test: namespaces and links (ip), link checks (ping), per-namespace settings (sysctl). */
export const COMMON_BINARIES: readonly RequiredBinary[] = [
  { binary: 'ip', debianPackage: 'iproute2' },
  { binary: 'ping', debianPackage: 'iputils-ping' },
  { binary: 'sysctl', debianPackage: 'procps' },
];

export const PEER_BINARIES: Record<PeerKind, readonly RequiredBinary[]> = {
  bird: [{ binary: 'bird', debianPackage: 'bird2' }, { binary: 'birdc', debianPackage: 'bird2' }],
  frr: [{ binary: FRR_BGPD, debianPackage: 'frr' }, { binary: 'vtysh', debianPackage: 'frr' }],
  gobgp: [{ binary: 'gobgpd', debianPackage: 'gobgpd' }, { binary: 'gobgp', debianPackage: 'gobgpd' }],
};

const missingBinary = (b: RequiredBinary) => `${b.binary} not found (apt-get install ${b.debianPackage})`;

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
  for (const b of COMMON_BINARIES) if (!executable(b.binary)) return missingBinary(b);
  const probe = `bgpts-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (e) {
    return `\`ip netns\` unusable: ${(e as Error).message.trim()}`;
  }
  for (const kind of peers) {
    for (const b of PEER_BINARIES[kind]) if (!executable(b.binary)) return `${kind}: ${missingBinary(b)}`;
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
