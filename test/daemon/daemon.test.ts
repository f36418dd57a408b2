// startDaemon over loopback: listening, configured neighbors reaching
// Established, dynamic neighbors from a listen range, rejection of unknown
// addresses, malformed input answered with the right NOTIFICATION, reload,
// and stop() with Cease / Administrative Shutdown "bgp-ts shutting down".
import { describe, expect, it } from 'vitest';
import { RawPeer } from '../helpers/raw-peer.js';
import { until } from '../helpers/session.js';
import { configOf, events, useDaemons } from '../helpers/daemon.js';

const { start, cleanup } = useDaemons();
// No HTTP API here (the default 127.0.0.1:9179 would collide between daemons).
const daemon = (yaml: string) => start(yaml);

describe('startDaemon', () => {
  it('two daemons peer over loopback, and stop() sends the shutdown text', async () => {
    // A is passive and listens; B connects to it from 127.0.0.12.
    const a = await daemon(`
routerId: 10.0.0.11
asn: 65011
listen: { addresses: ["127.0.0.11"], port: 0 }
fib: { enabled: false }
neighbors:
  - { address: 127.0.0.12, asn: 65012, passive: true, holdTime: 9 }
`);
    expect(events(a.lines, 'listening')[0]).toMatchObject({ addresses: ['127.0.0.11'], port: a.d.listenPort });
    expect(events(a.lines, 'daemon-started')[0]).toMatchObject({ routerId: '10.0.0.11', asn: 65011 });
    const b = await daemon(`
routerId: 10.0.0.12
asn: 65012
listen: { enabled: false }
neighbors:
  - { address: 127.0.0.11, port: ${a.d.listenPort}, localAddress: 127.0.0.12, asn: 65011, holdTime: 9 }
`);
    await until(() => a.d.sessions()[0]?.state === 'Established' && b.d.sessions()[0]?.state === 'Established', 4000, 'Established');
    expect(a.d.sessions()).toEqual([expect.objectContaining({ address: '127.0.0.12', asn: 65012, kind: 'configured' })]);
    expect(events(b.lines, 'session-established')[0]).toMatchObject({ peer: '127.0.0.11', asn: 65011, holdTime: 9, keepaliveTime: 3, remoteId: '10.0.0.11' });

    await b.d.stop({ reason: 'test' });
    expect(events(b.lines, 'daemon-stopping')).toHaveLength(1);
    expect(events(b.lines, 'notification-sent')[0]).toMatchObject({ code: 6, subcode: 2, text: 'bgp-ts shutting down' });
    await until(() => events(a.lines, 'notification-received').length > 0, 2000, 'NOTIFICATION on A');
    expect(events(a.lines, 'notification-received')[0]).toMatchObject({
      peer: '127.0.0.12',
      asn: 65012,
      name: 'Cease / Administrative Shutdown',
      text: 'bgp-ts shutting down',
    });
    expect(events(a.lines, 'session-down')[0]).toMatchObject({ peer: '127.0.0.12', reason: 'notification-received' });
  });

  it('rejects an unknown address, accepts a dynamic neighbor from a listen range and drops it when it goes down', async () => {
    const { d, lines } = await daemon(`
routerId: 10.0.0.21
asn: 65021
listen: { addresses: ["127.0.0.21"], port: 0 }
listenRanges:
  - { prefix: 127.0.1.0/24, asn: 65099 }
`);
    const port = d.listenPort!;
    const stranger = await RawPeer.connect('127.0.0.21', port, '127.0.0.22');
    await until(() => stranger.closed, 2000, 'stranger closed');
    expect(events(lines, 'connection-rejected')[0]).toMatchObject({ remote: '127.0.0.22', reason: 'no matching neighbor or listen range' });

    const dyn = await RawPeer.connect('127.0.0.21', port, '127.0.1.5');
    cleanup(() => dyn.destroy());
    const open = await dyn.waitFor('open');
    expect(open.holdTime).toBe(90);
    dyn.sendOpen(65099, '10.9.9.9');
    dyn.sendKeepalive();
    await until(() => d.peer('127.0.1.5')?.state === 'Established', 2000, 'dynamic Established');
    expect(d.sessions()).toEqual([expect.objectContaining({ address: '127.0.1.5', asn: 65099, kind: 'dynamic', state: 'Established' })]);
    dyn.destroy();
    await until(() => d.sessions().length === 0, 2000, 'dynamic session removed');
    expect(events(lines, 'session-down')[0]).toMatchObject({ peer: '127.0.1.5', reason: 'connection-closed' });
  });

  it('answers a malformed UPDATE with the right NOTIFICATION and keeps running', async () => {
    const { d, lines } = await daemon(`
routerId: 10.0.0.31
asn: 65031
listen: { addresses: ["127.0.0.31"], port: 0 }
neighbors:
  - { address: 127.0.0.32, asn: 65032, passive: true, connectRetryTime: 1 }
`);
    const peer = await RawPeer.connect('127.0.0.31', d.listenPort!, '127.0.0.32');
    cleanup(() => peer.destroy());
    await peer.waitFor('open');
    peer.sendOpen(65032, '10.0.0.32');
    peer.sendKeepalive();
    await until(() => d.peer('127.0.0.32')?.state === 'Established', 2000, 'Established');
    // UPDATE whose Withdrawn Routes Length (0x00ff) runs past the message end.
    peer.write(
      Buffer.from(
        'ffffffffffffffffffffffffffffffff' + // marker
          '0017' + // length 23
          '02' + // type UPDATE
          '00ff' + // withdrawn routes length 255: more than the 4-octet body holds
          '0000', // total path attribute length
        'hex',
      ),
    );
    const n = await peer.waitFor('notification');
    expect(n).toMatchObject({ code: 3, subcode: 1 }); // UPDATE Message Error / Malformed Attribute List
    await until(() => peer.closed, 2000, 'connection closed');
    expect(events(lines, 'message-error')[0]).toMatchObject({ peer: '127.0.0.32', code: 3, subcode: 1 });
    expect(events(lines, 'session-down')[0]).toMatchObject({ reason: 'update-error' });
    // A bad marker on a fresh connection: Message Header Error / Connection Not Synchronized.
    await until(() => d.peer('127.0.0.32')?.state === 'Active', 8000, 'back to Active');
    const again = await RawPeer.connect('127.0.0.31', d.listenPort!, '127.0.0.32');
    cleanup(() => again.destroy());
    await again.waitFor('open');
    again.write(Buffer.from('00'.repeat(16) + '0013' + '04', 'hex'));
    expect(await again.waitFor('notification')).toMatchObject({ code: 1, subcode: 1 });
  });

  it('reload adds, resets and removes neighbors', async () => {
    const base = `
routerId: 10.0.0.41
asn: 65041
listen: { addresses: ["127.0.0.41"], port: 0 }
`;
    const { d, lines } = await daemon(base + `neighbors:\n  - { address: 127.0.0.42, asn: 65042, passive: true }\n`);
    const port = d.listenPort!;
    const peer = await RawPeer.connect('127.0.0.41', port, '127.0.0.42');
    cleanup(() => peer.destroy());
    await peer.waitFor('open');
    peer.sendOpen(65042, '10.0.0.42');
    peer.sendKeepalive();
    await until(() => d.peer('127.0.0.42')?.state === 'Established', 2000, 'Established');
    const first = d.peer('127.0.0.42');
    // Same neighbor, only a description change: the session stays.
    await d.reload(configOf(base.replace('port: 0', `port: ${port}`) + `neighbors:\n  - { address: 127.0.0.42, asn: 65042, passive: true, description: x }\n`));
    expect(d.peer('127.0.0.42')).toBe(first);
    expect(first?.state).toBe('Established');
    // Hold time change resets; a new neighbor appears.
    await d.reload(
      configOf(
        base.replace('port: 0', `port: ${port}`) +
          `neighbors:\n  - { address: 127.0.0.42, asn: 65042, passive: true, holdTime: 30 }\n  - { address: 127.0.0.43, asn: 65043, passive: true }\n`,
      ),
    );
    const n1 = await peer.waitFor('notification');
    expect(n1).toMatchObject({ code: 6, subcode: 6 }); // Cease / Other Configuration Change
    expect(d.peer('127.0.0.42')).not.toBe(first);
    expect(d.sessions().map((s) => s.address).sort()).toEqual(['127.0.0.42', '127.0.0.43']);
    // Removal.
    await d.reload(configOf(base.replace('port: 0', `port: ${port}`)));
    expect(d.sessions()).toEqual([]);
    expect(events(lines, 'connection-rejected')).toHaveLength(0);
  });
});
