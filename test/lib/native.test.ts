// The addon's socket-option calls on a real TCP socket (what the BGP session
// uses for GTSM, RFC 5082: IP_TTL / IP_MINTTL), and its error values.
import { createServer, type Server, type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAvailable, loadNative } from '../../src/lib/native.js';

const IPPROTO_IP = 0;
const IP_TTL = 2;
const IP_MINTTL = 21;
const available = process.platform === 'linux' && nativeAvailable();

describe('native addon prerequisites', () => {
  it.runIf(process.env['CI'] === 'true')('is built under CI', () => {
    expect(available).toBe(true);
  });
});

describe.skipIf(!available)(`native socket options${available ? '' : ' (skipped: addon not built)'}`, () => {
  let server: Server;
  let client: Socket;

  beforeAll(async () => {
    server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    client = connect(port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
  });

  afterAll(() => {
    client?.destroy();
    server?.close();
  });

  const fdOf = (s: Socket): number => (s as unknown as { _handle: { fd: number } })._handle.fd;

  it('sets and reads back IP_TTL and IP_MINTTL by fd', () => {
    const n = loadNative();
    const fd = fdOf(client);
    expect(fd).toBeGreaterThan(2);
    expect(n.setsockoptInt(fd, IPPROTO_IP, IP_TTL, 255)).toBe(0);
    expect(n.getsockoptInt(fd, IPPROTO_IP, IP_TTL)).toBe(255);
    expect(n.setsockoptInt(fd, IPPROTO_IP, IP_MINTTL, 254)).toBe(0);
    expect(n.getsockoptInt(fd, IPPROTO_IP, IP_MINTTL)).toBe(254);
  });

  it('returns a negative errno instead of throwing', () => {
    const n = loadNative();
    expect(n.setsockoptInt(fdOf(client), IPPROTO_IP, IP_TTL, 1000)).toBe(-22); // EINVAL: TTL > 255
    expect(n.setsockoptInt(987654, IPPROTO_IP, IP_TTL, 64)).toBe(-9); // EBADF
    expect(n.setsockoptBuffer(987654, 6, 14, Buffer.alloc(216))).toBe(-9);
    expect(() => n.setsockoptInt(1, 2, 3, 'x' as unknown as number)).toThrow(TypeError);
  });

  it('opens, reports its port id, and closes a netlink socket', () => {
    const n = loadNative();
    const h = n.open({}, () => undefined);
    expect(h.portId).toBeGreaterThan(0);
    expect(h.fd).toBeGreaterThan(2);
    n.close(h);
    expect(n.send(h, Buffer.alloc(16))).toBe(-9); // EBADF after close
    expect(() => n.open({ netns: '/nonexistent/netns' }, () => undefined)).toThrow(expect.objectContaining({ errno: -2 }));
  });
});
