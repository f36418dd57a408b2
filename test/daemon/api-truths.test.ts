// What the API reports is true of the running daemon (issue 8's reading):
// a neighbor configured with a non-canonical IPv6 address is the same peer
// to the API and to /metrics as to its session (its config is found: hold
// time, reflector client), and /api/v1/status reports the package's version.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { events, useDaemons } from '../helpers/daemon.js';

const { start } = useDaemons();

describe('API truths', () => {
  it('a neighbor written 2001:DB8:0::2 is the peer 2001:db8::2 everywhere; status carries the package version', async () => {
    const { d, lines } = await start(
      `
routerId: 10.0.0.91
asn: 65090
clusterId: 10.0.0.91
listen: { enabled: false }
api: { listen: "127.0.0.91:0" }
fib: { enabled: false }
neighbors:
  - { address: "2001:DB8:0::2", asn: 65090, passive: true, holdTime: 30, routeReflectorClient: true, description: node-v6 }
`,
      { api: true },
    );
    const get = async (path: string) => {
      const r = await fetch(d.apiUrl + path);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    for (const written of ['2001:db8::2', encodeURIComponent('2001:DB8:0::2')]) {
      const p = await get(`/api/v1/peers/${written}`);
      expect(p.status).toBe(200);
      expect(p.body).toMatchObject({ address: '2001:db8::2', description: 'node-v6', holdTime: { configured: 30 }, routeReflectorClient: true });
    }
    const metrics = await (await fetch(d.apiUrl + '/metrics')).text();
    expect(metrics).toMatch(/bgp_peer_state\{peer="2001:db8::2",peer_asn="65090",description="node-v6"\} 3/);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await get('/api/v1/status')).body).toMatchObject({ version: pkg.version });
    // One line per event (issue 13): the API's listening address is logged once, by fastify, with its event.
    expect(events(lines, 'api-listening')).toEqual([expect.objectContaining({ address: d.apiUrl })]);
  });
});
