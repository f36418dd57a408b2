// Neighbors as the restarting speaker (RFC 4724 §4.1), against scripted raw
// peers over loopback: the restart state asked of the owner goes into the
// graceful restart capability of our OPEN (R bit, F bit per family, §3), a
// changed state reaches the next OPEN through refreshRestartState, and
// stopAll({ gracefulRestart }) closes a GR-negotiated session without any
// NOTIFICATION while a peer without the capability still gets the Cease.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { BgpConfig } from '../../../src/config/schema.js';
import { systemClock } from '../../../src/lib/clock.js';
import { v4Parse } from '../../../src/lib/prefix.js';
import { BgpListener } from '../../../src/bgp/session/listener.js';
import { Neighbors, type RestartState } from '../../../src/bgp/session/neighbors.js';
import { DEFAULT_CODEC_CONTEXT, encodeMessage } from '../../../src/bgp/wire/index.js';
import type { Capability, OpenMessage } from '../../../src/bgp/wire/types.js';
import { RawPeer } from '../../helpers/raw-peer.js';
import { recordingLogger, until } from '../../helpers/session.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function config(yaml: string): BgpConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const CONFIG = config(`
routerId: 10.0.0.81
asn: 65081
neighbors:
  - { address: 127.0.0.82, asn: 65081, passive: true, holdTime: 9, gracefulRestart: { enabled: true, restartTime: 45 } }
  - { address: 127.0.0.83, asn: 65081, passive: true, holdTime: 9, gracefulRestart: { enabled: true, restartTime: 45 } }
`);

async function setup(state: () => RestartState) {
  const log = recordingLogger('debug');
  const neighbors = new Neighbors(CONFIG, { clock: systemClock, logger: log.logger, restartState: state });
  const listener = new BgpListener({ addresses: ['127.0.0.81'], port: 0, logger: log.logger, onConnection: (c) => neighbors.accept(c) });
  const bound = await listener.start();
  cleanup.push(() => listener.close(), () => neighbors.stopAll());
  neighbors.startAll();
  return { neighbors, port: bound.port, lines: log.lines };
}

const grCap = (open: OpenMessage) => open.capabilities.find((c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart');

/** Connects from `from`, reads our OPEN, answers with its own (GR capability optional) and a KEEPALIVE. */
async function peerUp(port: number, from: string, gr: boolean) {
  const peer = await RawPeer.connect('127.0.0.81', port, from);
  cleanup.push(() => peer.destroy());
  const ours = await peer.waitFor('open');
  const open: OpenMessage = {
    type: 'open',
    version: 4,
    myAs: 65081,
    holdTime: 9,
    bgpId: v4Parse(`10.0.0.${from.split('.')[3]}`)!,
    capabilities: [
      { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
      { kind: 'four-octet-as', code: 65, asn: 65081 },
      ...(gr ? [{ kind: 'graceful-restart' as const, code: 64 as const, restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] }] : []),
    ],
  };
  peer.write(encodeMessage(open, DEFAULT_CODEC_CONTEXT));
  peer.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CODEC_CONTEXT));
  return { peer, ours };
}

describe('Neighbors: graceful restart as the restarting speaker (RFC 4724 §4.1)', () => {
  it('puts the restart state into the OPEN (R, F per family) and takes a changed state on the next OPEN', async () => {
    let state: RestartState = { restarting: true, forwardingState: ['ipv4-unicast'] };
    const { neighbors, port } = await setup(() => state);
    const first = await peerUp(port, '127.0.0.82', true);
    expect(grCap(first.ours)).toMatchObject({
      restarting: true, // R bit
      notification: false, // N bit: we do not do RFC 8538
      restartTime: 45,
      families: [
        { afi: 1, safi: 1, forwardingState: true }, // F bit: IPv4 kernel routes kept
        { afi: 2, safi: 1, forwardingState: false }, // nothing of IPv6 kept
      ],
    });
    await until(() => neighbors.get('127.0.0.82')?.state === 'Established', 3000, 'Established');

    // Converged: R and F clear; the session's next OPEN says so.
    state = { restarting: false, forwardingState: [] };
    neighbors.refreshRestartState();
    first.peer.destroy();
    await until(() => neighbors.get('127.0.0.82')?.state !== 'Established', 3000, 'session down');
    await until(() => neighbors.get('127.0.0.82')?.state === 'Active', 8000, 'listening again');
    const second = await peerUp(port, '127.0.0.82', true);
    expect(grCap(second.ours)).toMatchObject({ restarting: false, families: [{ forwardingState: false }, { forwardingState: false }] });
  });

  it('stopAll with gracefulRestart: GR session closed without a NOTIFICATION, the other gets Cease / Administrative Shutdown', async () => {
    const { neighbors, port, lines } = await setup(() => ({ restarting: false, forwardingState: [] }));
    const withGr = await peerUp(port, '127.0.0.82', true);
    const without = await peerUp(port, '127.0.0.83', false);
    await until(() => neighbors.list().every((p) => p.state === 'Established'), 3000, 'both Established');
    expect(neighbors.get('127.0.0.82')?.session?.gracefulRestart).toBe(true);
    expect(neighbors.get('127.0.0.83')?.session?.gracefulRestart).toBe(false);

    const out = await neighbors.stopAll({ subcode: 2, text: 'bye', gracefulRestart: true });
    expect(out).toEqual({ gracefulRestart: ['127.0.0.82'], ceased: ['127.0.0.83'] });
    await until(() => withGr.peer.closed && without.peer.closed, 3000, 'both connections closed');
    expect(withGr.peer.received.map((m) => m.type)).not.toContain('notification');
    const cease = without.peer.received.find((m) => m.type === 'notification');
    expect(cease).toMatchObject({ code: 6, subcode: 2, shutdownMessage: 'bye' });
    expect(lines.filter((l) => l.event === 'session-down').map((l) => [l.peer, l.reason])).toEqual(
      expect.arrayContaining([
        ['127.0.0.82', 'graceful-restart'],
        ['127.0.0.83', 'admin-stop'],
      ]),
    );
    expect(neighbors.list()).toEqual([]);
  });
});
