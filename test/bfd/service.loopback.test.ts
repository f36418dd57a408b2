// The BFD service with its worker thread and the native UDP sockets, over
// loopback (no root): two services on 127.0.0.1 and 127.0.0.2 (each receiving
// on its own port, since both share one host) come Up, the main thread hears
// only state changes, a datagram sent with TTL 64 or malformed is dropped and
// counted by the worker, and stop tells the peer AdminDown. Needs the built
// worker (npm run build; `npm test` runs it first) and the native addon.
import { afterEach, describe, expect, it } from 'vitest';
import { workerBfdService } from '../../src/bfd/service.js';
import type { BfdService, BfdSnapshot, BfdStateChange } from '../../src/bfd/types.js';
import { encodeControl } from '../../src/bfd/packet.js';
import { loadNative } from '../../src/lib/native.js';

const PORT_A = 23784;
const PORT_B = 23785;
const running: BfdService[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('BFD service over loopback', () => {
  it('comes Up both ways in worker threads, and detects malformed and TTL-64 packets without a flap', async () => {
    const changes: BfdStateChange[] = [];
    const a = workerBfdService({ transport: { port: PORT_A, peerPort: PORT_B, listen: { 4: '127.0.0.1' } } });
    const b = workerBfdService({ transport: { port: PORT_B, peerPort: PORT_A, listen: { 4: '127.0.0.2' } } });
    running.push(a, b);
    a.onStateChange((c) => changes.push(c));
    a.add({ peer: '127.0.0.2', localAddress: '127.0.0.1', minRx: 100, minTx: 100, multiplier: 3 });
    b.add({ peer: '127.0.0.1', localAddress: '127.0.0.2', minRx: 100, minTx: 100, multiplier: 3 });
    await until('a Up', () => a.stateOf('127.0.0.2') === 'Up');
    await until('b Up', () => b.stateOf('127.0.0.1') === 'Up');
    const view = (await a.snapshot()).sessions[0]!;
    expect(view).toMatchObject({ state: 'Up', txIntervalMs: 100, rxIntervalMs: 100, detectionTimeMs: 300 });
    expect(view.sourcePort).toBeGreaterThanOrEqual(49152);
    const atUp = changes.length;

    // A fuzzer on 127.0.0.2: TTL 64 (not single hop) and malformed packets, each dropped and counted.
    const n = loadNative();
    const ttl64 = n.udpOpen!({ family: 4, address: '127.0.0.2', port: 0, ttl: 64 });
    const ttl255 = n.udpOpen!({ family: 4, address: '127.0.0.2', port: 0, ttl: 255 });
    const good = encodeControl({ diagnostic: 'none', state: 'Down', detectMult: 3, myDiscriminator: 5, yourDiscriminator: 0, desiredMinTxUs: 1e6, requiredMinRxUs: 1e6 });
    for (let i = 0; i < 20; i++) n.udpSend!(ttl64, good, '127.0.0.1', PORT_A);
    for (let i = 0; i < 20; i++) n.udpSend!(ttl255, Buffer.alloc(10 + i, i), '127.0.0.1', PORT_A);
    n.udpClose!(ttl64);
    n.udpClose!(ttl255);
    const snap: BfdSnapshot = await until('drops counted', async () => {
      const s = await a.snapshot();
      return (s.dropped.ttl ?? 0) >= 20 && Object.values(s.dropped).reduce((x, y) => x + (y ?? 0), 0) >= 40 ? s : undefined;
    });
    expect(snap.sessions[0]!.state).toBe('Up');
    expect(changes.length).toBe(atUp);

    // stop: b is told AdminDown and goes Down with diagnostic 3, not a detection-time expiry.
    const bChanges: BfdStateChange[] = [];
    b.onStateChange((c) => bChanges.push(c));
    await a.stop();
    await until('b Down', () => b.stateOf('127.0.0.1') === 'Down');
    expect(bChanges.at(-1)).toMatchObject({ from: 'Up', to: 'Down', diagnostic: 'neighbor-signaled-down' });
  });
});
