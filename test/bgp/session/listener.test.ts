// Listener and connector over loopback: address normalisation, listen-range
// lookup, accepting on an ephemeral port, binding the client's local address.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/log.js';
import { connectPeer, type ConnectResult } from '../../../src/bgp/session/connector.js';
import {
  BgpListener,
  findListenRange,
  prefixContainsAddress,
  type AcceptedConnection,
} from '../../../src/bgp/session/listener.js';

describe('listen ranges', () => {
  it('matches IPv4 and IPv6 addresses against range prefixes, first match wins', () => {
    expect(prefixContainsAddress('192.0.2.0/24', '192.0.2.200')).toBe(true);
    expect(prefixContainsAddress('192.0.2.0/24', '192.0.3.1')).toBe(false);
    expect(prefixContainsAddress('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(prefixContainsAddress('2001:db8::/33', '2001:db8:8000::1')).toBe(false);
    expect(prefixContainsAddress('192.0.2.0/24', '2001:db8::1')).toBe(false);
    expect(prefixContainsAddress('::/0', '192.0.2.1')).toBe(false);
    const ranges = [
      { prefix: '10.0.0.0/25', asn: 1 },
      { prefix: '10.0.0.0/24', asn: 2 },
    ];
    expect(findListenRange(ranges, '10.0.0.1')?.asn).toBe(1);
    expect(findListenRange(ranges, '10.0.0.200')?.asn).toBe(2);
    expect(findListenRange(ranges, '10.0.1.1')).toBeUndefined();
  });
});

describe('BgpListener + connectPeer', () => {
  it('accepts IPv4 and IPv6 connections with the bound source address', async () => {
    const seen: AcceptedConnection[] = [];
    const listener = new BgpListener({
      addresses: ['127.0.0.1', '::1'],
      port: 0,
      logger: silentLogger(),
      onConnection: (c) => {
        seen.push(c);
        c.socket.destroy();
      },
    });
    const { port } = await listener.start();
    expect(port).toBeGreaterThan(0);
    try {
      const r4 = await new Promise<ConnectResult>((res) =>
        connectPeer({ host: '127.0.0.1', port, localAddress: '127.0.0.9', timeoutMs: 2000 }, systemClock, res),
      );
      expect(r4.ok).toBe(true);
      const r6 = await new Promise<ConnectResult>((res) =>
        connectPeer({ host: '::1', port, timeoutMs: 2000 }, systemClock, res),
      );
      expect(r6.ok).toBe(true);
      for (const r of [r4, r6]) if (r.ok) r.socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((c) => c.remote).sort()).toEqual(['127.0.0.9', '::1']);
      expect(seen.find((c) => c.remote === '::1')?.local).toBe('::1');
    } finally {
      await listener.close();
    }
  });

  it('reports a refused connection as a failure, not a throw', async () => {
    const listener = new BgpListener({ addresses: ['127.0.0.1'], port: 0, logger: silentLogger(), onConnection: () => {} });
    const { port } = await listener.start();
    await listener.close(); // nothing listens on `port` any more
    const r = await new Promise<ConnectResult>((res) =>
      connectPeer({ host: '127.0.0.1', port, timeoutMs: 2000 }, systemClock, res),
    );
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/ECONNREFUSED/);
  });

  it('fails to start when the address is already taken, releasing what it bound', async () => {
    const a = new BgpListener({ addresses: ['127.0.0.1'], port: 0, logger: silentLogger(), onConnection: () => {} });
    const { port } = await a.start();
    const b = new BgpListener({ addresses: ['127.0.0.2', '127.0.0.1'], port, logger: silentLogger(), onConnection: () => {} });
    await expect(b.start()).rejects.toThrow(/EADDRINUSE/);
    // 127.0.0.2 was released: a third listener can take it
    const c = new BgpListener({ addresses: ['127.0.0.2'], port, logger: silentLogger(), onConnection: () => {} });
    await c.start();
    await Promise.all([a.close(), c.close()]);
  });
});
