// The CLI's human tables (src/cli/tables.ts) for what operators asked of
// them beside birdc and calicoctl: the last error in words, "down 3m12s",
// the peer type, routes in prefix order with stale paths marked, restart
// timers, and the FIB's dry run said plainly.

import { describe, expect, it } from 'vitest';
import type { ApiFib, ApiStatus } from '../../src/api/schemas.js';
import { comparePrefixes, formatFib, formatPeer, formatPeers, formatRoutes, formatStatus, lastErrorText, peerType } from '../../src/cli/tables.js';
import { peer, route } from '../api/fake-deps.js';

describe('peers', () => {
  it('names a received NOTIFICATION with its RFC 9003 text instead of notification-received', () => {
    const p = peer({
      state: 'Idle',
      lastError: 'notification-received',
      lastNotification: { direction: 'received', code: 6, subcode: 2, name: 'Cease / Administrative Shutdown', message: 'maintenance', at: '2024-05-01T10:00:00.000Z' },
    });
    expect(lastErrorText(p)).toBe('Received: Cease / Administrative Shutdown "maintenance"');
    expect(lastErrorText(peer({ lastError: 'hold-timer-expired', lastNotification: { direction: 'sent', code: 4, subcode: 0, name: 'Hold Timer Expired', at: '' } }))).toBe('Sent: Hold Timer Expired');
    expect(lastErrorText(peer({ lastError: 'connection-closed' }))).toBe('Connection closed by the peer');
  });

  it('a down peer shows "down 3m12s" since its last state change, not a timestamp', () => {
    const now = Date.parse('2024-05-01T10:03:12.000Z');
    const out = formatPeers([peer({ state: 'Active', uptimeSeconds: 0, since: '2024-05-01T10:00:00.000Z' })], now);
    expect(out).toMatch(/ Active +down 3m12s /);
    expect(out).not.toContain('2024-05-01');
  });

  it('a peer shut down in the config or through the API is listed as "Idle (admin shutdown)", counted by status', () => {
    const zero = { received: 0, accepted: 0, advertised: 0 };
    // neighbors[].shutdown: no session, so nothing negotiated, no since, no last error.
    const inConfig = peer({
      address: '192.0.2.3', description: 'node-c', state: 'Idle', uptimeSeconds: 0, adminShutdown: true, since: undefined, holdTime: { configured: 90 },
      capabilities: undefined, keepaliveTime: undefined, establishedTransitions: 0, prefixes: zero, prefixesByFamily: { 'ipv4-unicast': zero, 'ipv6-unicast': zero }, notifications: { sent: [], received: [] },
    });
    const viaApi = peer({
      state: 'Idle', uptimeSeconds: 0, adminShutdown: true, lastError: 'admin-stop',
      lastNotification: { direction: 'sent', code: 6, subcode: 2, name: 'Cease / Administrative Shutdown', message: 'maintenance', at: '2024-05-01T10:00:00.000Z' },
    });
    const out = formatPeers([peer({ address: '192.0.2.4', description: 'node-d' }), inConfig, viaApi], Date.parse('2024-05-01T10:03:12.000Z'));
    const row = (name: string) => out.split('\n').find((l) => l.startsWith(name + ' '));
    expect(row('node-c')).toMatch(/^node-c +192\.0\.2\.3 +64512 +iBGP mesh +Idle \(admin shutdown\) +down +rx\/acc\/adv 0\/0\/0$/);
    expect(row('node-b')).toMatch(/ Idle \(admin shutdown\) +down 3m12s +rx\/acc\/adv 12\/10\/3  Sent: Cease \/ Administrative Shutdown "maintenance"$/);
    expect(row('node-d')).toMatch(/ Established +1h02m05s /);
    expect(row('node-d')).not.toContain('admin shutdown');
    expect(formatPeer(inConfig)).toMatch(/^State: +Idle \(admin shutdown\)$/m);
    const s: ApiStatus = {
      routerId: '192.0.2.1', asn: 64512, version: '0.1.0', uptimeSeconds: 5, startedAt: '', peers: { configured: 3, dynamic: 0, established: 1, adminShutdown: 2 },
      routes: { 'ipv4-unicast': 0, 'ipv6-unicast': 0 }, paths: { 'ipv4-unicast': 0, 'ipv6-unicast': 0 }, fib: { installed: 0, pending: 0, failed: 0 },
    };
    expect(formatStatus(s)).toContain('Peers:  3 configured, 0 dynamic, 1 established, 2 admin shutdown\n');
    expect(formatStatus({ ...s, peers: { configured: 1, dynamic: 0, established: 1, adminShutdown: 0 } })).toContain('Peers:  1 configured, 0 dynamic, 1 established\n');
  });

  it('type: iBGP mesh, iBGP RR client, iBGP dynamic, eBGP ToR/external', () => {
    expect(peerType(peer())).toBe('iBGP mesh');
    expect(peerType(peer({ routeReflectorClient: true }))).toBe('iBGP RR client');
    expect(peerType(peer({ dynamic: true }))).toBe('iBGP dynamic');
    expect(peerType(peer({ asn: 65000 }))).toBe('eBGP ToR/external');
  });

  it('peer shows the graceful restart timers, ours, the peer\'s and the stale routes\' remaining time', () => {
    const out = formatPeer(peer({ gracefulRestart: { restartTime: 120, peerRestartTime: 90, staleRemainingSeconds: 75 } }));
    expect(out).toMatch(/^Graceful restart: +restart time 120s, peer's restart time 90s, stale routes kept 1m15s more$/m);
  });
});

describe('routes', () => {
  it('are sorted by prefix (IPv4 numerically, then IPv6), best first, stale paths marked S', () => {
    const out = formatRoutes([
      route({ prefix: '2001:db8::/48', family: 'ipv6-unicast' }),
      route({ prefix: '10.244.10.0/26' }),
      route({ prefix: '10.244.2.0/26', best: false, peer: '192.0.2.3', stale: true }),
      route({ prefix: '10.244.2.0/26', best: true, stale: true }),
      route({ prefix: '10.244.2.0/24' }),
    ]);
    const prefixes = out.split('\n').slice(1, 6).map((l) => l.slice(0, 3) + l.slice(3).split(/ +/)[0]);
    expect(prefixes).toEqual(['*  10.244.2.0/24', '*S 10.244.2.0/26', ' S 10.244.2.0/26', '*  10.244.10.0/26', '*  2001:db8::/48']);
    expect(out).toContain("S stale: kept through the peer's graceful restart");
    expect(comparePrefixes('2001:db8::1/128', '2001:db8:0:0:0:0:0:1/128')).toBe(0);
  });
});

describe('dry run', () => {
  const fib: ApiFib = {
    mode: 'dry-run', reason: 'not root and no CAP_NET_ADMIN', table: 254, protocol: 201, reconciled: true,
    counts: { installed: 0, pending: 0, failed: 0, wouldInstall: 1 },
    routes: [{ prefix: '10.244.2.0/26', state: 'would-install', nextHops: [{ gateway: '192.0.2.2' }] }],
  };

  it('bgp-ts fib says dry run and never calls a route installed', () => {
    const out = formatFib(fib);
    expect(out).toMatch(/^FIB DRY RUN \(not root and no CAP_NET_ADMIN\): nothing is written to the kernel/);
    expect(out).toContain('1 would be installed, 0 failed');
    expect(out).toMatch(/^10\.244\.2\.0\/26 +would-install +via 192\.0\.2\.2$/m);
    expect(out).not.toMatch(/\d+ installed/);
    expect(out).not.toMatch(/^\S+ +installed /m);
  });

  it('bgp-ts status says dry run', () => {
    const s: ApiStatus = {
      routerId: '192.0.2.1', asn: 64512, version: '0.1.0', uptimeSeconds: 5, startedAt: '', peers: { configured: 1, dynamic: 0, established: 1 },
      routes: { 'ipv4-unicast': 1, 'ipv6-unicast': 0 }, paths: { 'ipv4-unicast': 1, 'ipv6-unicast': 0 },
      fib: { installed: 0, pending: 0, failed: 0, mode: 'dry-run', reason: 'fib.dryRun is true' },
    };
    expect(formatStatus(s)).toContain('FIB:    DRY RUN (fib.dryRun is true): kernel routes are not written');
  });
});
