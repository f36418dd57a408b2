// Test fixture: a throwaway network namespace with a veth pair (veth0
// 192.0.2.1/24 + fd00::1/64, peer in the same namespace) and a veth named
// tunl0 standing in for the IPIP device (this kernel has no ipip module), so
// the `via X dev tunl0 onlink` form can be programmed. Always deleted.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { nativeAvailable } from '../../src/lib/native.js';

export interface TestNetns {
  readonly name: string;
  /** Path for the addon's `netns` option. */
  readonly path: string;
  /** Runs a command inside the namespace; returns stdout. */
  run(cmd: string, ...args: string[]): string;
  /** `ip -j ...` inside the namespace, parsed. */
  ipJson<T = Record<string, unknown>>(...args: string[]): T[];
  destroy(): void;
}

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, CAP_NET_ADMIN)';
  if (!nativeAvailable()) return 'native addon not built (run npx node-gyp rebuild)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (ip) not installed';
  }
  return undefined;
}

export function createNetns(tag = 'nl'): TestNetns {
  const name = `bgpts-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const run = (cmd: string, ...args: string[]): string =>
    execFileSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ns: TestNetns = {
    name,
    path: `/run/netns/${name}`,
    run,
    ipJson: <T>(...args: string[]) => JSON.parse(run('ip', '-j', ...args) || '[]') as T[],
    destroy: () => execFileSync('ip', ['netns', 'del', name]),
  };
  try {
    for (const line of [
      'link set lo up',
      'link add veth0 type veth peer name veth1',
      'link add tunl0 type veth peer name tunl0p',
      'link set veth0 up', 'link set veth1 up', 'link set tunl0 up', 'link set tunl0p up',
      'addr add 192.0.2.1/24 dev veth0',
      'addr add 203.0.113.1/32 dev tunl0',
      'addr add fd00::1/64 dev veth0 nodad',
    ])
      run('ip', ...line.split(' '));
  } catch (e) {
    ns.destroy();
    throw e;
  }
  return ns;
}
