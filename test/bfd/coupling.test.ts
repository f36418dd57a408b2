// RFC 5882 coupling (src/daemon/bfd-coupling.ts) with a fake BFD service and
// fake BGP sessions: the config's bfd blocks become sessions with the defaults
// filled in, a reload retimes (never resets) them, Up → Down closes an
// Established BGP session with Cease / BFD Down (RFC 9384 subcode 10) unless
// graceful restart and a clear C bit make it a possible restart (RFC 5882
// §4.3.2), AdminDown is no failure, and the config schema takes the keys.
import { describe, expect, it } from 'vitest';
import type { BfdService, BfdSessionSpec, BfdSnapshot, BfdStateChange } from '../../src/bfd/types.js';
import type { BfdState } from '../../src/bfd/packet.js';
import { CEASE_BFD_DOWN } from '../../src/bgp/wire/errors.js';
import { parseConfig } from '../../src/config/load.js';
import type { BgpConfig } from '../../src/config/schema.js';
import { BfdCoupling, bfdSpecFor, verdictFor } from '../../src/daemon/bfd-coupling.js';
import { silentLogger } from '../../src/lib/log.js';

function config(yaml: string): BgpConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const BASE = `
routerId: 192.0.2.1
asn: 64512
bfd: { minRx: 200, minTx: 250, multiplier: 4 }
neighbors:
  - { address: 192.0.2.2, asn: 64513, bfd: { enabled: true } }
  - { address: 192.0.2.3, asn: 64513, bfd: { minRx: 100, multiplier: 5 } }
  - { address: 192.0.2.4, asn: 64513, bfd: { enabled: false } }
  - { address: "2001:DB8::5", asn: 64513 }
listenRanges:
  - { prefix: 192.0.2.128/25, asn: 64512, bfd: { minTx: 50 } }
`;

class FakeService implements BfdService {
  calls: string[] = [];
  listeners: ((c: BfdStateChange) => void)[] = [];
  states = new Map<string, BfdState>();
  add(s: BfdSessionSpec) { this.calls.push(`add ${s.peer} ${s.minRx}/${s.minTx}x${s.multiplier}`); }
  update(s: BfdSessionSpec) { this.calls.push(`update ${s.peer} ${s.minRx}/${s.minTx}x${s.multiplier}`); }
  remove(p: string) { this.calls.push(`remove ${p}`); }
  adminDown(p: string, d: boolean) { this.calls.push(`admin-down ${p} ${d}`); }
  stateOf(p: string) { return this.states.get(p); }
  onStateChange(l: (c: BfdStateChange) => void) { this.listeners.push(l); return () => undefined; }
  async snapshot(): Promise<BfdSnapshot> { return { sessions: [], received: 0, dropped: {} }; }
  async stop() { this.calls.push('stop'); }
  emit(c: Partial<BfdStateChange> & { peer: string }) {
    for (const l of this.listeners) l({ from: 'Up', to: 'Down', diagnostic: 'control-detection-time-expired', remoteCpi: false, remoteState: 'Down', at: 0, ...c });
  }
}

function fakeSession(gracefulRestart: boolean) {
  const calls: unknown[] = [];
  return {
    calls,
    session: { gracefulRestart } as unknown,
    async stop(o: unknown) { calls.push(['stop', o]); },
    start() { calls.push(['start']); },
  };
}

describe('config keys', () => {
  it('fills the defaults (300 ms x 3) and per-peer values', () => {
    const c = config('routerId: 192.0.2.1\nasn: 1\nneighbors: [{ address: 192.0.2.2, asn: 2, bfd: {} }]');
    expect(c.bfd).toEqual({ minRx: 300, minTx: 300, multiplier: 3 });
    expect(bfdSpecFor(c, c.neighbors[0]!, c.neighbors[0]!.address)).toEqual({ peer: '192.0.2.2', minRx: 300, minTx: 300, multiplier: 3 });
  });
  it('rejects bad values with the path named', () => {
    for (const bad of ['bfd: { minRx: 0 }', 'bfd: { multiplier: 256 }', 'bfd: { echo: true }', 'neighbors: [{ address: 192.0.2.2, asn: 2, bfd: { minTx: 5 } }]']) {
      const r = parseConfig(`routerId: 192.0.2.1\nasn: 1\n${bad}`);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(JSON.stringify(r.errors)).toMatch(/bfd/);
    }
  });
});

describe('RFC 5882 coupling', () => {
  it('adds a session per neighbor with a bfd block, defaults filled in; none for disabled or absent', () => {
    const svc = new FakeService();
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => undefined });
    c.apply(config(BASE));
    expect(svc.calls).toEqual(['add 192.0.2.2 200/250x4', 'add 192.0.2.3 100/250x5']);
    expect(c.stateOf('192.0.2.2')).toBe('Down');
    expect(c.stateOf('192.0.2.4')).toBeUndefined();
    expect(c.stateOf('2001:db8::5')).toBeUndefined();
  });

  it('starts no worker when no peer wants BFD', () => {
    let created = 0;
    const c = new BfdCoupling({ createService: () => (created++, new FakeService()), logger: silentLogger(), session: () => undefined });
    c.apply(config('routerId: 192.0.2.1\nasn: 1\nneighbors: [{ address: 192.0.2.2, asn: 2 }]'));
    expect(created).toBe(0);
  });

  it('a reload retimes by update (Poll/Final), removes what went, adds what came', () => {
    const svc = new FakeService();
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => undefined });
    c.apply(config(BASE));
    svc.calls = [];
    c.apply(
      config(
        BASE.replace('minRx: 200', 'minRx: 150')
          .replace('192.0.2.4, asn: 64513, bfd: { enabled: false }', '192.0.2.4, asn: 64513, bfd: {}')
          .replace('{ minRx: 100, multiplier: 5 }', '{ enabled: false }'),
      ),
    );
    expect(svc.calls.sort()).toEqual(['add 192.0.2.4 150/250x4', 'remove 192.0.2.3', 'update 192.0.2.2 150/250x4']);
  });

  it('a neighbor shut down in the file runs no BFD: a running session is removed (AdminDown first), enabling it adds one', () => {
    const svc = new FakeService();
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => undefined });
    const shut = BASE.replace('{ address: 192.0.2.2, asn: 64513, bfd: { enabled: true } }', '{ address: 192.0.2.2, asn: 64513, shutdown: true, bfd: { enabled: true } }');
    c.apply(config(shut));
    expect(svc.calls).toEqual(['add 192.0.2.3 100/250x5']);
    expect(c.stateOf('192.0.2.2')).toBeUndefined();
    svc.calls = [];
    c.apply(config(BASE));
    expect(svc.calls).toEqual(['add 192.0.2.2 200/250x4']);
    svc.calls = [];
    c.apply(config(shut));
    expect(svc.calls).toEqual(['remove 192.0.2.2']); // the engine's remove sends AdminDown first (engine.test.ts)
  });

  it('dynamic neighbors take their listen range bfd block and leave with the session', () => {
    const svc = new FakeService();
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => undefined });
    c.apply(config(BASE));
    svc.calls = [];
    c.dynamicPeer('192.0.2.200', true);
    c.dynamicPeer('192.0.2.9', true); // in no range
    c.dynamicPeer('192.0.2.200', false);
    expect(svc.calls).toEqual(['add 192.0.2.200 200/50x4', 'remove 192.0.2.200']);
  });

  it('Up → Down closes the Established session with Cease / BFD Down (subcode 10) and restarts it', async () => {
    const svc = new FakeService();
    const s = fakeSession(false);
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => s as never });
    c.apply(config(BASE));
    svc.emit({ peer: '192.0.2.2' });
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toEqual([['stop', { subcode: CEASE_BFD_DOWN, reason: 'bfd-down' }], ['start']]);
    expect(CEASE_BFD_DOWN).toBe(10);
  });

  it('the peer signalling AdminDown (its BFD turned off, its shutdown) leaves the BGP session alone (RFC 5882 §3.2)', async () => {
    const svc = new FakeService();
    const s = fakeSession(false);
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => s as never });
    c.apply(config(BASE));
    svc.emit({ peer: '192.0.2.2', diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' });
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toEqual([]);
  });

  it('with graceful restart and a clear C bit it closes without a NOTIFICATION (RFC 5882 §4.3.2)', async () => {
    const svc = new FakeService();
    const s = fakeSession(true);
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => s as never });
    c.apply(config(BASE));
    svc.emit({ peer: '192.0.2.2', remoteCpi: false });
    await new Promise((r) => setImmediate(r));
    expect(s.calls[0]).toEqual(['stop', { silent: true, reason: 'bfd-down' }]);
  });

  it('shutdown and enable of a peer send AdminDown and leave it; stop ends the service', async () => {
    const svc = new FakeService();
    const c = new BfdCoupling({ createService: () => svc, logger: silentLogger(), session: () => undefined });
    c.apply(config(BASE));
    c.adminDown('192.0.2.2', true);
    c.adminDown('192.0.2.2', false);
    c.adminDown('192.0.2.4', true); // no BFD there
    await c.stop();
    expect(svc.calls.slice(2)).toEqual(['admin-down 192.0.2.2 true', 'admin-down 192.0.2.2 false', 'stop']);
  });

  it('verdicts: only a failure of an Up session of an Established peer acts; C bit set withdraws even with GR', () => {
    const ch = (o: Partial<BfdStateChange>): BfdStateChange => ({ peer: 'x', from: 'Up', to: 'Down', diagnostic: 'control-detection-time-expired', remoteCpi: false, remoteState: 'Down', at: 0, ...o });
    const est = { established: true, gracefulRestart: false };
    expect(verdictFor(ch({}), est)).toBe('cease-bfd-down');
    expect(verdictFor(ch({ diagnostic: 'neighbor-signaled-down' }), est)).toBe('cease-bfd-down');
    expect(verdictFor(ch({ from: 'Init' }), est)).toBe('none'); // never was Up: BFD not required (RFC 5882 §4.2)
    expect(verdictFor(ch({ to: 'AdminDown', diagnostic: 'administratively-down' }), est)).toBe('none');
    expect(verdictFor(ch({}), { established: false, gracefulRestart: false })).toBe('none');
    expect(verdictFor(ch({ remoteCpi: false }), { established: true, gracefulRestart: true })).toBe('graceful-restart-helper');
    expect(verdictFor(ch({ remoteCpi: true }), { established: true, gracefulRestart: true })).toBe('cease-bfd-down');
    // RFC 5882 §3.2: the peer going AdminDown is no path failure, with or without graceful restart
    expect(verdictFor(ch({ diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' }), est)).toBe('none');
    expect(verdictFor(ch({ diagnostic: 'neighbor-signaled-down', remoteState: 'AdminDown' }), { established: true, gracefulRestart: true })).toBe('none');
  });
});
