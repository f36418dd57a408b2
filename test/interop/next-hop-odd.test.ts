// Interop: a peer sending next hops that can never be used (issue 10). ExaBGP
// (Debian's exabgp) announces, over one eBGP session, blocks with NEXT_HOP
// 0.0.0.0, 224.0.0.1 and our own address, an IPv6 block with `::1` over the
// IPv4 session (what OpenBGPD sent), one good block, and an IPv6 block with a
// link-local next hop (usable: the session is one hop, so it has an
// interface). None of the bad ones is installed in the dut's kernel table,
// explain names why for each (RFC 4271 §5.1.3, §6.3), the good ones are
// installed (the link-local one with the session's interface), and the
// session stays Established: a wrong next hop is logged (`next-hop-invalid`)
// and ignored, never a NOTIFICATION.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon } from './harness/bgp-ts.js';
import { pollUntil, run } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import { spawnIn, type ManagedProcess } from './harness/processes.js';
import { missingPrerequisite } from './harness/prerequisites.js';

const EXABGP = '/usr/sbin/exabgp';
/** Root, netns and the built daemon as for every interop test, plus a runnable exabgp. */
async function gate(): Promise<string | undefined> {
  let r = missingPrerequisite([]);
  if (r === undefined) {
    try {
      await run(EXABGP, ['--version']);
    } catch {
      r = 'exabgp not runnable (apt-get install exabgp)';
    }
  }
  if (r !== undefined && process.env['CI'] === 'true') throw new Error(`interop prerequisite missing under CI: ${r}`);
  return r;
}
const reason = await gate();

const DUT = '10.0.0.1';
const PEER = '10.0.0.2';
const BAD: Record<string, string> = {
  '10.244.31.0/26': 'next-hop-unspecified', // 0.0.0.0
  '10.244.32.0/26': 'next-hop-multicast', // 224.0.0.1
  '10.244.33.0/26': 'next-hop-own-address', // 10.0.0.1, ours
  '2001:db8:31::/48': 'next-hop-loopback', // ::1 over the IPv4 session
};
const GOOD = '10.244.34.0/26';
/** A link-local next hop over a one-hop session: usable, out of the session's interface (PeerInfo.interface). */
const LINK_LOCAL = '2001:db8:34::/48';

const CONFIG = `
neighbor ${DUT} {
  router-id ${PEER};
  local-address ${PEER};
  local-as 65010;
  peer-as 64512;
  hold-time 30;
  family { ipv4 unicast; ipv6 unicast; }
  static {
    route 10.244.31.0/26 next-hop 0.0.0.0;
    route 10.244.32.0/26 next-hop 224.0.0.1;
    route 10.244.33.0/26 next-hop ${DUT};
    route ${GOOD} next-hop ${PEER};
    route 2001:db8:31::/48 next-hop ::1;
    route ${LINK_LOCAL} next-hop fe80::2;
  }
}
`;

describe.skipIf(reason !== undefined)(`odd next hops from ExaBGP${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let exa: ManagedProcess;
  let ns: string;

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'exa']);
    ns = topo.node('dut').ns;
    const conf = join(topo.dir, 'exabgp.conf');
    writeFileSync(conf, CONFIG);
    dut = new BgpTsDaemon(ns, topo.dir, {
      routerId: DUT,
      asn: 64512,
      listen: { addresses: [DUT], port: 179 },
      neighbors: [{ address: PEER, asn: 65010, holdTime: 30, passive: true, families: ['ipv4-unicast', 'ipv6-unicast'] }],
      fib: { enabled: true, table: 254, protocol: 201, ecmp: 1 },
      api: { listen: '127.0.0.1:9179' },
    });
    await dut.start();
    // ExaBGP as root, no privilege drop, no listening socket of its own.
    exa = spawnIn(topo.node('exa').ns, 'exabgp', 'env', [
      'exabgp.daemon.user=root', 'exabgp.daemon.drop=false', 'exabgp.tcp.bind=', 'exabgp.log.destination=stdout', EXABGP, conf,
    ]);
  }, 60_000);

  afterAll(async () => {
    await exa?.stop();
    await dut?.kill();
    await topo?.destroy();
  });

  it('installs only the good block, names why for each bad next hop, and keeps the session up', async () => {
    const installed = async () => {
      const out: string[] = [];
      for (const fam of ['-4', '-6']) {
        const { stdout } = await run('ip', ['-n', ns, '-j', fam, 'route', 'show', 'proto', '201']);
        for (const r of JSON.parse(stdout || '[]') as { dst: string }[]) out.push(r.dst);
      }
      return out;
    };
    await pollUntil(async () => ((await installed()).includes(GOOD) && (await installed()).includes(LINK_LOCAL) ? true : undefined), { timeoutMs: 30_000, what: `${GOOD} and ${LINK_LOCAL} installed\n${exa.tail(20)}\n${dut.tail(10)}` });
    for (const [prefix, why] of Object.entries(BAD)) {
      const e = await pollUntil(
        async () => {
          try {
            return await dut.apiGet<{ candidates: { status: string; ineligible?: string; text: string }[] }>(`/api/v1/routes/${encodeURIComponent(prefix)}/explain`);
          } catch {
            return undefined;
          }
        },
        { timeoutMs: 10_000, what: `explain ${prefix}` },
      );
      expect(e.candidates, prefix).toEqual([expect.objectContaining({ status: 'ineligible', ineligible: why })]);
      // RFC 4271 §6.3: logged (one warning per peer, next hop and reason a minute).
      const logged = await dut.waitForEvent((l) => l.event === 'next-hop-invalid' && l['prefix'] === prefix, 10_000);
      expect(logged, prefix).toMatchObject({ level: 'warn', peer: PEER, reason: why });
    }
    // A little later: still nothing bad in the kernel, still Established.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await installed()).sort()).toEqual([GOOD, LINK_LOCAL].sort());
    // The link-local next hop went to the kernel with the session's interface.
    const { stdout } = await run('ip', ['-n', ns, '-j', '-6', 'route', 'show', LINK_LOCAL, 'proto', '201']);
    expect(JSON.parse(stdout) as unknown[]).toEqual([expect.objectContaining({ gateway: 'fe80::2', dev: expect.any(String) })]);
    const peers = await dut.apiGet<{ peers: { state: string; messages: { sent: { notification: number } } }[] }>('/api/v1/peers');
    expect(peers.peers).toEqual([expect.objectContaining({ state: 'Established' })]);
    expect(peers.peers[0]!.messages.sent.notification).toBe(0);
  }, 60_000);
});
