// Three bgp-ts daemons over loopback with the RIB wired in: a route reflector
// (RFC 4456) and two clients that originate one prefix each. Each client
// learns the other's prefix through the reflector with ORIGINATOR_ID and
// CLUSTER_LIST set and the originator's next hop kept; its update-received
// lines show it; a withdrawal and a session loss propagate; a RawPeer over
// max-prefix gets Cease / Maximum Number of Prefixes Reached with its data.
import { describe, expect, it } from 'vitest';
import { v4Parse } from '../../src/lib/prefix.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { until } from '../helpers/session.js';
import { events, k, useDaemons } from '../helpers/daemon.js';

const { start, cleanup } = useDaemons();
// The HTTP API only where a test asks for it (api.listen in its YAML); else none.
const daemon = (yaml: string) => start(yaml, { api: yaml.includes('api:') });

const received = (lines: Record<string, unknown>[], peer: string, field: 'announced' | 'withdrawn', prefix: string) =>
  events(lines, 'update-received').some((l) => l.peer === peer && Array.isArray(l[field]) && (l[field] as string[]).includes(prefix));

describe('daemon with the RIB: route reflection over loopback', () => {
  it('two clients exchange their prefixes through a reflector; withdraw and session loss propagate', async () => {
    const rr = await daemon(`
routerId: 10.0.0.51
asn: 65050
clusterId: 10.0.0.100
listen: { addresses: ["127.0.0.51"], port: 0 }
api: { listen: "127.0.0.51:0" }
fib: { enabled: false }
neighbors:
  - { address: 127.0.0.52, asn: 65050, passive: true, routeReflectorClient: true, holdTime: 9 }
  - { address: 127.0.0.53, asn: 65050, passive: true, routeReflectorClient: true, holdTime: 9 }
`);
    const port = rr.d.listenPort!;
    const client = (n: number) => `
routerId: 10.0.0.${n}
asn: 65050
listen: { enabled: false }
fib: { enabled: false }
originate:
  - { prefix: 10.244.${n}.0/26, communities: ["65050:${n}"] }
neighbors:
  - { address: 127.0.0.51, port: ${port}, localAddress: 127.0.0.${n}, asn: 65050, holdTime: 9, connectRetryTime: 1 }
`;
    const a = await daemon(client(52));
    const b = await daemon(client(53));
    await until(() => b.d.rib.locRib.best(k('10.244.52.0/26')) !== undefined && a.d.rib.locRib.best(k('10.244.53.0/26')) !== undefined, 8000, 'reflected routes');

    const best = b.d.rib.locRib.best(k('10.244.52.0/26'))!;
    expect(best.peer.address).toBe('127.0.0.51');
    expect(best.attrs.attrs).toMatchObject({
      originatorId: v4Parse('10.0.0.52'), // RFC 4456 §8
      clusterList: [v4Parse('10.0.0.100')],
      nextHop: '127.0.0.52', // the originator's next hop, kept through the reflector
      localPref: 100,
      communities: [65050 * 65536 + 52],
      asPath: [],
    });
    expect(received(b.lines, '127.0.0.51', 'announced', '10.244.52.0/26')).toBe(true);
    expect(received(a.lines, '127.0.0.51', 'announced', '10.244.53.0/26')).toBe(true);
    // End-of-RIB from the reflector after its initial table (RFC 4724 §2).
    await until(() => events(b.lines, 'update-received').some((l) => l.peer === '127.0.0.51' && l.endOfRib === 'ipv4-unicast'), 4000, 'End-of-RIB');
    // The reflector's own view: both routes, and B's FIB change for A's prefix.
    expect(rr.d.rib.peerStats('127.0.0.52')?.byFamily['ipv4-unicast']).toMatchObject({ received: 1, accepted: 1, advertised: 1 });
    expect(b.fib).toContainEqual({ prefix: k('10.244.52.0/26'), nextHops: [{ address: '127.0.0.52' }] });
    expect(b.fib).toContainEqual({ prefix: k('10.244.53.0/26'), local: { blackhole: true } });
    expect(events(rr.lines, 'rib-converged').length).toBeGreaterThan(0);

    // The same through the reflector's HTTP API.
    const get = async (path: string) => (await fetch(rr.d.apiUrl + path)).json() as Promise<Record<string, unknown>>;
    const peer52 = await get('/api/v1/peers/127.0.0.52');
    expect(peer52).toMatchObject({ state: 'Established', routeReflectorClient: true, prefixes: { received: 1, accepted: 1, advertised: 1 }, establishedTransitions: 1 });
    const routes = await get('/api/v1/routes?prefix=10.244.52.0%2F26');
    expect(routes.routes).toEqual([expect.objectContaining({ prefix: '10.244.52.0/26', peer: '127.0.0.52', best: true, nextHop: '127.0.0.52', communities: ['65050:52'] })]);
    const explained = await get(`/api/v1/routes/${encodeURIComponent('10.244.53.0/26')}/explain`);
    expect(explained).toMatchObject({ reason: 'only-path', candidates: [{ status: 'best' }] });
    const status = await get('/api/v1/status');
    expect(status).toMatchObject({ clusterId: '10.0.0.100', peers: { configured: 2, established: 2 }, routes: { 'ipv4-unicast': 2 } });

    // A withdrawal through the daemon (the API path) reaches B via the reflector.
    expect(a.d.announce('10.244.152.0/26', [])).toEqual({ ok: true });
    await until(() => b.d.rib.locRib.best(k('10.244.152.0/26')) !== undefined, 4000, 'announced');
    expect(a.d.withdraw('10.244.52.0/26')).toMatchObject({ ok: false, error: 'conflict' }); // the config's
    expect(a.d.withdraw('10.244.152.0/26')).toEqual({ ok: true });
    await until(() => received(b.lines, '127.0.0.51', 'withdrawn', '10.244.152.0/26'), 4000, 'withdrawn at B');
    expect(b.d.rib.locRib.best(k('10.244.152.0/26'))).toBeUndefined();

    // A goes away (Cease, so no graceful restart): the reflector withdraws its route from B.
    await a.d.stop();
    await until(() => received(b.lines, '127.0.0.51', 'withdrawn', '10.244.52.0/26'), 4000, 'A routes withdrawn');
    expect(b.fib.at(-1)).toEqual({ prefix: k('10.244.52.0/26'), nextHops: [] });
  }, 20_000);

  it('max-prefix close: Cease / Maximum Number of Prefixes Reached with AFI, SAFI and the limit (RFC 4486 §4)', async () => {
    const { d, lines } = await daemon(`
routerId: 10.0.0.61
asn: 65061
listen: { addresses: ["127.0.0.61"], port: 0 }
neighbors:
  - { address: 127.0.0.62, asn: 65062, passive: true, maxPrefix: { limit: 2, action: close } }
`);
    const peer = await RawPeer.connect('127.0.0.61', d.listenPort!, '127.0.0.62');
    cleanup(() => peer.destroy());
    await peer.waitFor('open');
    peer.sendOpen(65062, '10.0.0.62');
    peer.sendKeepalive();
    await until(() => d.peer('127.0.0.62')?.state === 'Established', 2000, 'Established');
    peer.write(
      Buffer.from(
        'ffffffffffffffffffffffffffffffff' + // marker
          '0037' + // length 55
          '02' + // UPDATE
          '0000' + // no withdrawn routes
          '0014' + // path attributes: 20 octets
          '40010100' + // ORIGIN IGP
          '400206' + '0201' + '0000fe26' + // AS_PATH: AS_SEQUENCE of one 4-octet ASN, 65062
          '4003047f00003e' + // NEXT_HOP 127.0.0.62
          '180a0001' + '180a0002' + '180a0003', // NLRI 10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24
        'hex',
      ),
    );
    const n = await peer.waitFor('notification');
    expect(n).toMatchObject({ code: 6, subcode: 1 });
    expect(n.data.toString('hex')).toBe('0001' + '01' + '00000002'); // AFI 1, SAFI 1, limit 2
    expect(events(lines, 'max-prefix')[0]).toMatchObject({ peer: '127.0.0.62', family: 'ipv4-unicast', limit: 2, count: 3, action: 'close' });
    expect(events(lines, 'session-down')[0]).toMatchObject({ peer: '127.0.0.62', reason: 'max-prefix' });
  });
});
