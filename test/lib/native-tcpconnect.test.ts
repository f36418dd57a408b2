// The addon's tcpConnect (native/tcpconnect.c): options applied before the
// SYN (RFC 2385 TCP_MD5SIG, RFC 5082 TTLs), failures as negative errno values
// with the stage that failed, the completion callback, and cancel.
import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, nativeAvailable, type NativeAddon } from '../../src/lib/native.js';

const available = process.platform === 'linux' && nativeAvailable();

describe.skipIf(!available)('native tcpConnect', () => {
  let server: Server;
  let port = 0;
  let n: NativeAddon;
  const connect = (o: Parameters<NonNullable<NativeAddon['tcpConnect']>>[0]) =>
    new Promise<{ errno: number; fd: number; start: unknown }>((resolve) => {
      const start = n.tcpConnect!(o, (errno, fd) => resolve({ errno, fd, start }));
      if (start.errno !== 0) resolve({ errno: start.errno, fd: -1, start });
    });

  beforeAll(async () => {
    n = loadNative();
    server = createServer((s) => s.end('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server?.close());

  it('connects, binds the local address, sets TTLs, and the fd works as a net.Socket', async () => {
    const r = await connect({ family: 4, remoteAddress: '127.0.0.1', remotePort: port, localAddress: '127.0.0.3', ttl: 200, minTtl: 7 });
    expect(r.errno).toBe(0);
    expect(n.getsockoptInt(r.fd, 0, 2)).toBe(200); // IP_TTL
    expect(n.getsockoptInt(r.fd, 0, 21)).toBe(7); // IP_MINTTL
    const s = new Socket({ fd: r.fd, readable: true, writable: true });
    expect(s.localAddress).toBe('127.0.0.3');
    expect(s.remotePort).toBe(port);
    const data = await new Promise<string>((res) => s.once('data', (d) => res(d.toString())));
    expect(data).toBe('hi');
    s.destroy();
  });

  it('reports ECONNREFUSED through the callback with fd -1', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    expect(await connect({ family: 4, remoteAddress: '127.0.0.1', remotePort: dead })).toMatchObject({ errno: -111, fd: -1 });
  });

  it('fails before connect() with the stage named, and throws only on malformed options', () => {
    const cb = () => undefined;
    expect(n.tcpConnect!({ family: 4, remoteAddress: '127.0.0.1', remotePort: port, ttl: 1000 }, cb)).toEqual({ errno: -22, stage: 'ttl' });
    expect(n.tcpConnect!({ family: 4, remoteAddress: '::1', remotePort: port }, cb)).toEqual({ errno: -22, stage: 'address' });
    expect(n.tcpConnect!({ family: 4, remoteAddress: '127.0.0.1', remotePort: port, md5sig: Buffer.alloc(3) }, cb)).toEqual({ errno: -22, stage: 'md5' });
    expect(n.tcpConnect!({ family: 4, remoteAddress: '127.0.0.1', remotePort: port, localAddress: '192.0.2.99' }, cb)).toEqual({ errno: -99, stage: 'bind' });
    expect(() => n.tcpConnect!({ family: 5 as 4, remoteAddress: '127.0.0.1', remotePort: port }, cb)).toThrow(TypeError);
    expect(() => n.tcpConnect!({ family: 4, remoteAddress: '127.0.0.1', remotePort: 0 }, cb)).toThrow(TypeError);
    expect(() => (n.tcpConnect as unknown as (o: unknown) => unknown)({})).toThrow(TypeError);
  });

  it('cancel closes a pending connect and no callback follows', async () => {
    let called = false;
    const backlog = createServer();
    await new Promise<void>((r) => backlog.listen(0, '127.0.0.1', r));
    const start = n.tcpConnect!({ family: 4, remoteAddress: '127.0.0.1', remotePort: (backlog.address() as { port: number }).port, minTtl: 255 }, () => {
      called = true; // the SYN-ACK at TTL 64 is dropped by IP_MINTTL 255, so this stays pending
    });
    expect(start.errno).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    n.tcpConnectCancel!(start);
    n.tcpConnectCancel!(start); // idempotent
    await new Promise((r) => setTimeout(r, 100));
    expect(called).toBe(false);
    backlog.close();
  });
});
