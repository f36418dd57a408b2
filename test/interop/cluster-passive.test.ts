// Interop: Calico's mesh passive rule, where string and numeric order differ.
// bgp-ts node-a is 10.0.0.5 and a BIRD 2 configured exactly as Calico's
// template configures it is 10.0.0.10. As strings "10.0.0.5" > "10.0.0.10",
// so BIRD writes `passive on` toward node-a (the template's
// `if gt $onode_ip $node_ip`) and node-a, whose mesh entry comes from the
// cluster model (meshPassive), must dial. With the rule reversed both sides
// wait and the session never leaves Active: this test would time out.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourcesFromEntries } from '../../src/cluster/etcd-keys.js';
import { mergeOverlay } from '../../src/cluster/merge.js';
import { desiredFromResources } from '../../src/cluster/model.js';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import { CalicoBird } from './harness/calico-bird.js';
import { pollUntil, runIn } from './harness/exec.js';
import { IFNAME, Topology } from './harness/netns.js';
import { interopGate } from './harness/prerequisites.js';
import { affinity, ipPool, node } from '../cluster/calico-fixtures.js';

const A = '10.0.0.5';
const BIRD = '10.0.0.10';
const POOL = '10.244.0.0/16';
const BLOCK = { a: '10.244.5.0/26', bird: '10.244.10.0/26' };

const skip = interopGate(['bird']);

describe.skipIf(skip !== undefined)('Calico mesh passive rule against a Calico-configured BIRD 2 ("10.0.0.5" > "10.0.0.10")', () => {
  let topo: Topology;
  let a: BgpTsDaemon;
  let bird: CalicoBird;

  beforeAll(async () => {
    topo = await Topology.create(['a', 'bird']);
    await runIn(topo.node('a').ns, 'ip', ['addr', 'add', `${A}/24`, 'dev', IFNAME]);
    await runIn(topo.node('bird').ns, 'ip', ['addr', 'add', `${BIRD}/24`, 'dev', IFNAME]);
    const resources = resourcesFromEntries(
      [node('node-a', `${A}/24`), node('node-bird', `${BIRD}/24`), ipPool('pool', { cidr: POOL, ipipMode: 'Never' }), affinity('node-a', BLOCK.a)],
      'node-a',
    );
    const { overlay } = desiredFromResources(resources, 'node-a');
    mkdirSync(join(topo.dir, 'a'));
    a = new BgpTsDaemon(topo.node('a').ns, join(topo.dir, 'a'), mergeOverlay({ api: { listen: '127.0.0.1:9179' } }, overlay) as never);
    bird = new CalicoBird(topo.node('bird').ns, join(topo.dir, 'bird'), { routerId: BIRD, asn: 64512, pool: POOL, block: BLOCK.bird, peers: [A], restartTime: 120 });
    await bird.start();
    await a.start();
  }, 60_000);

  afterAll(async () => {
    await bird?.stop();
    await a?.stop();
    await topo?.destroy();
  });

  it('BIRD waits (passive on toward the greater string), bgp-ts dials, the session is Established', async () => {
    expect(bird.config()).toMatch(/neighbor 10\.0\.0\.5 as 64512;[^}]*passive on;/);
    expect(a.config.neighbors).toEqual([expect.objectContaining({ address: BIRD, passive: false, localAddress: A })]);
    await a.waitForEvent(eventIs('session-established', { peer: BIRD }), 30_000);
    await pollUntil(async () => (await bird.state(A)) === 'Established', { timeoutMs: 20_000, what: `BIRD Mesh_${A} Established\n${bird.tail()}` });
    // routes both ways: the block from the datastore reaches BIRD, BIRD's reaches bgp-ts
    await pollUntil(async () => (await bird.routes(BLOCK.a)).length > 0, { timeoutMs: 20_000, what: `BIRD holding ${BLOCK.a}` });
    const rs = await pollUntil(async () => {
      const r = (await a.routes(BLOCK.bird)).filter((x) => x.peer === BIRD);
      return r.length > 0 ? r : undefined;
    }, { timeoutMs: 20_000, what: 'bgp-ts holding the BIRD block' });
    expect(rs[0]).toMatchObject({ nextHop: BIRD, best: true });
  });
});
