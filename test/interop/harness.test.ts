// The interop harness itself: the prerequisite gate (skip locally, fail under
// CI), and that a topology really connects its nodes and leaves nothing
// behind (namespaces, daemons, temp files) once destroyed.

import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { run, runIn } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import { interopGate, missingPrerequisite } from './harness/prerequisites.js';
import { spawnIn } from './harness/processes.js';

const skip = interopGate([], { needDaemon: false });

describe.skipIf(skip !== undefined)('prerequisite gate', () => {
  const saved = { PATH: process.env['PATH'], CI: process.env['CI'] };
  afterEach(() => {
    process.env['PATH'] = saved.PATH;
    if (saved.CI === undefined) delete process.env['CI'];
    else process.env['CI'] = saved.CI;
  });

  /** A PATH holding only `ip` and `ping` (sysctl is found in /usr/sbin anyway). */
  const onlyPing = () => {
    const dir = mkdtempSync(join(tmpdir(), 'bgpts-path-'));
    symlinkSync('/usr/sbin/ip', join(dir, 'ip'));
    symlinkSync('/usr/bin/ping', join(dir, 'ping'));
    return dir;
  };

  it('names iputils-ping when ping is missing (the namespaces\' link check needs it)', () => {
    process.env['PATH'] = '/usr/sbin:/sbin'; // ping lives in /usr/bin
    expect(missingPrerequisite([], { needDaemon: false })).toBe('ping not found (apt-get install iputils-ping)');
  });

  it('names a missing peer binary; skips locally and throws under CI=true', () => {
    const dir = onlyPing(); // gobgpd lives in /usr/bin
    process.env['PATH'] = dir;
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    expect(missingPrerequisite(['gobgp'], { needDaemon: false })).toBe('gobgp: gobgpd not found (apt-get install gobgpd)');
    delete process.env['CI'];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(interopGate(['gobgp'], { needDaemon: false })).toMatch(/gobgpd not found/);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^\[interop skipped\] gobgp: gobgpd not found/));
    warn.mockRestore();
    process.env['CI'] = 'true';
    expect(() => interopGate(['gobgp'], { needDaemon: false })).toThrow(/under CI: gobgp: gobgpd not found/);
    expect(interopGate(['bird'], { needDaemon: false })).toBeUndefined();
  });
});

describe.skipIf(skip !== undefined)('topology', () => {
  it('joins three nodes through a bridge over IPv4 and IPv6, and destroy() removes everything', async () => {
    const topo = await Topology.create(['a', 'b', 'c']);
    let sleeper: ReturnType<typeof spawnIn> | undefined;
    try {
      expect(topo.nodes.map((n) => n.ipv4)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
      await topo.waitReachable('c', '10.0.0.2', '2001:db8::2');
      // each node sees only its own namespace's addresses
      const addrs = (await runIn(topo.node('b').ns, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
      expect(addrs).toContain('10.0.0.2/24');
      expect(addrs).toContain('2001:db8::2/64');
      expect(addrs).not.toContain('10.0.0.1/24');
      // a cut link stops traffic and keeps its IPv6 address for when it returns
      await topo.linkDown('c');
      expect((await runIn(topo.node('a').ns, 'ping', ['-c1', '-W1', '10.0.0.3'], { allowFailure: true })).code).not.toBe(0);
      await topo.linkUp('c');
      await topo.waitReachable('c', '2001:db8::1');
      sleeper = spawnIn(topo.node('a').ns, 'sleeper', 'sleep', ['600']);
      expect((await run('ip', ['netns', 'identify', String(sleeper.pid)])).stdout.trim()).toBe(topo.node('a').ns);
    } finally {
      await sleeper?.stop(2_000);
      await topo.destroy();
    }
    expect(sleeper!.running).toBe(false);
    const { stdout } = await run('ip', ['netns', 'list']);
    for (const n of topo.nodes) expect(stdout).not.toContain(n.ns);
    expect(stdout).not.toContain(topo.id);
    expect(existsSync(topo.dir)).toBe(false);
  });
});
