// Graceful restart with bgp-ts as the restarting speaker (RFC 4724 §4.1),
// two daemons over loopback. Stopping one that negotiated GR closes the
// session without a NOTIFICATION (§4): the other keeps its routes as stale
// (our own receiving side, §4.2) and, when it comes back, the routes are
// refreshed by the new session's UPDATEs and End-of-RIB, never withdrawn.
// Without GR, stop still sends Cease / Administrative Shutdown with the RFC
// 8203 text. As root, the restarting daemon's FIB runs in a network namespace:
// its kernel routes survive the stop, the next run adopts them and its OPEN
// carries R = 1 and F = 1 for IPv4 unicast until the FIB has converged.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { SHUTDOWN_TEXT } from '../../src/daemon/daemon.js';
import { until } from '../helpers/session.js';
import { events, k, useDaemons, type Line } from '../helpers/daemon.js';
import { createNetns, kernelSkipReason } from '../helpers/netns.js';

const { start, cleanup } = useDaemons();
const daemon = (yaml: string, fibNetns?: string) => start(yaml, fibNetns ? { fibNetns } : {});

const withdrawn = (lines: Line[], peer: string, prefix: string) =>
  events(lines, 'update-received').some((l) => l.peer === peer && Array.isArray(l.withdrawn) && (l.withdrawn as string[]).includes(prefix));

/** A: listens on 127.0.0.71, originates 10.244.71.0/26. */
const nodeA = (gr: boolean) => `
routerId: 10.0.0.71
asn: 65070
listen: { addresses: ["127.0.0.71"], port: 0 }
fib: { enabled: false }
originate: [{ prefix: 10.244.71.0/26 }]
neighbors:
  - { address: 127.0.0.72, asn: 65070, passive: true, holdTime: 9${gr ? ', gracefulRestart: { enabled: true, restartTime: 30 }' : ''} }
`;
/** B: connects to A from 127.0.0.72, originates 10.244.72.0/26. */
const nodeB = (port: number, gr: boolean, fib = false) => `
routerId: 10.0.0.72
asn: 65070
listen: { enabled: false }
fib: { enabled: ${fib}, table: 254, protocol: 201 }
originate: [{ prefix: 10.244.72.0/26 }]
neighbors:
  - { address: 127.0.0.71, port: ${port}, localAddress: 127.0.0.72, asn: 65070, holdTime: 9, connectRetryTime: 1${gr ? ', gracefulRestart: { enabled: true, restartTime: 30 }' : ''} }
`;

/** Stops B and checks A kept B's block as stale without a NOTIFICATION. */
async function stopKeepsStale(a: Awaited<ReturnType<typeof daemon>>, b: Awaited<ReturnType<typeof daemon>>): Promise<void> {
  await b.d.stop();
  // B: the session closed for graceful restart, no Cease sent.
  expect(events(b.lines, 'session-down')).toContainEqual(expect.objectContaining({ peer: '127.0.0.71', reason: 'graceful-restart' }));
  expect(events(b.lines, 'notification-sent')).toEqual([]);
  expect(events(b.lines, 'sessions-left-for-restart')).toContainEqual(expect.objectContaining({ gracefulRestart: 1, peers: ['127.0.0.71'], ceased: 0 }));
  expect(events(b.lines, 'daemon-stopping')).toHaveLength(1); // one line per event: the stop itself
  // A: the peer just went away; its routes are kept as stale for its restart time (RFC 4724 §4.2).
  await until(() => events(a.lines, 'stale-routes-kept').some((l) => l.peer === '127.0.0.72'), 4000, 'stale routes kept at A');
  expect(events(a.lines, 'notification-received')).toEqual([]);
  expect(events(a.lines, 'stale-routes-kept').find((l) => l.peer === '127.0.0.72')).toMatchObject({ routes: 1, restartTime: 30 });
  expect(a.d.rib.locRib.best(k('10.244.72.0/26'))).toBeDefined();
  expect(a.d.rib.peerStats('127.0.0.72')?.stale).toBe(1);
}

/** B is back: A refreshes the stale route (End-of-RIB sweeps nothing), never withdraws it. */
async function refreshed(a: Awaited<ReturnType<typeof daemon>>): Promise<void> {
  await until(() => a.d.peer('127.0.0.72')?.state === 'Established', 8000, 'A re-established with B');
  await until(() => events(a.lines, 'update-received').some((l) => l.peer === '127.0.0.72' && l.endOfRib === 'ipv4-unicast' && events(a.lines, 'session-established').length >= 2), 4000, 'End-of-RIB from the restarted B');
  await until(() => a.d.rib.peerStats('127.0.0.72')?.stale === 0, 2000, 'stale flags cleared');
  expect(a.d.rib.locRib.best(k('10.244.72.0/26'))?.peer.address).toBe('127.0.0.72');
  expect(withdrawn(a.lines, '127.0.0.72', '10.244.72.0/26')).toBe(false);
  expect(events(a.lines, 'notification-received')).toEqual([]);
}

describe('graceful restart as the restarting speaker (RFC 4724 §4.1) over loopback', () => {
  it('stop leaves GR sessions without a NOTIFICATION; the peer keeps our routes stale and refreshes them on return', async () => {
    const a = await daemon(nodeA(true));
    const b = await daemon(nodeB(a.d.listenPort!, true));
    await until(() => a.d.rib.locRib.best(k('10.244.72.0/26')) !== undefined && b.d.rib.locRib.best(k('10.244.71.0/26')) !== undefined, 8000, 'routes exchanged');
    expect(a.d.peer('127.0.0.72')?.session?.gracefulRestart).toBe(true);
    await stopKeepsStale(a, b);

    const b2 = await daemon(nodeB(a.d.listenPort!, true));
    await refreshed(a);
    // fib disabled: no forwarding state was preserved, so the OPEN honestly says R = 0, F = 0.
    expect(a.d.peer('127.0.0.72')?.session?.peerGracefulRestart).toMatchObject({
      restarting: false,
      families: [
        { family: 'ipv4-unicast', forwardingState: false },
        { family: 'ipv6-unicast', forwardingState: false },
      ],
    });
    expect(events(b2.lines, 'restarting')).toEqual([]);
  }, 30_000);

  it('without graceful restart, stop sends Cease / Administrative Shutdown with the RFC 8203 text', async () => {
    const a = await daemon(nodeA(false));
    const b = await daemon(nodeB(a.d.listenPort!, false));
    await until(() => a.d.rib.locRib.best(k('10.244.72.0/26')) !== undefined, 8000, 'route at A');
    await b.d.stop();
    await until(() => events(a.lines, 'notification-received').length > 0, 4000, 'Cease at A');
    expect(events(a.lines, 'notification-received')[0]).toMatchObject({ peer: '127.0.0.72', code: 6, subcode: 2 });
    expect(JSON.stringify(events(a.lines, 'notification-received')[0])).toContain(SHUTDOWN_TEXT);
    expect(events(b.lines, 'session-down')).toContainEqual(expect.objectContaining({ reason: 'admin-stop' }));
    expect(events(b.lines, 'sessions-left-for-restart')).toEqual([]);
    expect(events(b.lines, 'daemon-stopping')).toHaveLength(1);
    await until(() => a.d.rib.locRib.best(k('10.244.72.0/26')) === undefined, 4000, 'route withdrawn at A');
    expect(events(a.lines, 'stale-routes-kept')).toEqual([]);
  }, 20_000);

  it('GR on our side only (peer without the capability): stop sends the Cease', async () => {
    const a = await daemon(nodeA(false));
    const b = await daemon(nodeB(a.d.listenPort!, true));
    await until(() => a.d.peer('127.0.0.72')?.state === 'Established', 8000, 'Established');
    expect(b.d.peer('127.0.0.71')?.session?.gracefulRestart).toBe(false);
    await b.d.stop();
    await until(() => events(a.lines, 'notification-received').length > 0, 4000, 'Cease at A');
    expect(events(a.lines, 'notification-received')[0]).toMatchObject({ code: 6, subcode: 2 });
    expect(events(b.lines, 'session-down')).toContainEqual(expect.objectContaining({ reason: 'admin-stop' }));
  }, 20_000);

  const reason = kernelSkipReason();
  it.skipIf(reason !== undefined)(`kernel routes kept across the restart; the OPEN carries R = 1 and F = 1 until converged${reason ? ` (skipped: ${reason})` : ''}`, async () => {
    const ns = createNetns('gr');
    cleanup(() => ns.destroy());
    const kernel = () => execFileSync('ip', ['netns', 'exec', ns.name, 'ip', 'route', 'show', 'proto', '201'], { encoding: 'utf8' });
    const a = await daemon(nodeA(true));
    const b = await daemon(nodeB(a.d.listenPort!, true, true), ns.path);
    await until(() => a.d.rib.locRib.best(k('10.244.72.0/26')) !== undefined, 8000, 'route at A');
    await until(() => kernel().includes('blackhole 10.244.72.0/26'), 4000, 'own block in the kernel');
    // A fresh start with nothing adopted: R = 0.
    expect(a.d.peer('127.0.0.72')?.session?.peerGracefulRestart?.restarting).toBe(false);
    await stopKeepsStale(a, b);
    expect(kernel()).toContain('blackhole 10.244.72.0/26'); // left for the next run

    const b2 = await daemon(nodeB(a.d.listenPort!, true, true), ns.path);
    expect(events(b2.lines, 'restarting')).toContainEqual(expect.objectContaining({ forwardingState: ['ipv4-unicast'] }));
    await until(() => a.d.peer('127.0.0.72')?.state === 'Established', 8000, 'A re-established with B');
    // RFC 4724 §3: R = 1, F = 1 for the family whose kernel routes survived.
    expect(a.d.peer('127.0.0.72')?.session?.peerGracefulRestart).toMatchObject({
      restarting: true,
      families: [
        { family: 'ipv4-unicast', forwardingState: true },
        { family: 'ipv6-unicast', forwardingState: false }, // no IPv6 route was kept
      ],
    });
    await refreshed(a);
    // Converged (End-of-RIB from A): R cleared for later OPENs; the block never left the kernel.
    await until(() => events(b2.lines, 'restart-complete').length > 0, 4000, 'restart complete');
    expect(events(b2.lines, 'restart-complete')[0]).toMatchObject({ reason: 'end-of-rib' });
    expect(kernel()).toContain('blackhole 10.244.72.0/26');
    // A session reset after convergence: the new OPEN says R = 0.
    const established = events(a.lines, 'session-established').length;
    expect((await b2.d.resetPeer('127.0.0.71')).ok).toBe(true);
    await until(() => events(a.lines, 'session-established').length > established && a.d.peer('127.0.0.72')?.state === 'Established', 8000, 'reset session up');
    expect(a.d.peer('127.0.0.72')?.session?.peerGracefulRestart?.restarting).toBe(false);
  }, 40_000);
});
