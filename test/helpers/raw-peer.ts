// A tiny scripted BGP peer over a raw TCP socket: it writes whatever bytes a
// test gives it and decodes what comes back, so tests can misbehave on purpose.
import { connect, type Socket } from 'node:net';
import { DEFAULT_CODEC_CONTEXT, Framer, decodeMessage, encodeMessage, type InboundMessage } from '../../src/bgp/wire/index.js';
import type { OpenMessage } from '../../src/bgp/wire/types.js';
import { v4Parse } from '../../src/lib/prefix.js';
import { until } from './session.js';

export class RawPeer {
  readonly received: InboundMessage[] = [];
  closed = false;
  private readonly framer = new Framer(65535);

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const m of this.framer.push(chunk).messages) {
        const r = decodeMessage(m, DEFAULT_CODEC_CONTEXT);
        if (r.ok) this.received.push(r.value);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  static async connect(host: string, port: number, localAddress?: string): Promise<RawPeer> {
    const s = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    return new RawPeer(s);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** OPEN with 4-octet AS and IPv4 unicast, as a minimal peer sends. */
  sendOpen(asn: number, routerId: string, holdTime = 90): void {
    const open: OpenMessage = {
      type: 'open',
      version: 4,
      myAs: asn > 65535 ? 23456 : asn,
      holdTime,
      bgpId: v4Parse(routerId)!,
      capabilities: [
        { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
        { kind: 'four-octet-as', code: 65, asn },
      ],
    };
    this.write(encodeMessage(open, DEFAULT_CODEC_CONTEXT));
  }

  sendKeepalive(): void {
    this.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CODEC_CONTEXT));
  }

  async waitFor<T extends InboundMessage['type']>(type: T, ms = 3000): Promise<Extract<InboundMessage, { type: T }>> {
    await until(() => this.received.some((m) => m.type === type), ms, `${type} from bgp-ts`);
    return this.received.find((m) => m.type === type) as Extract<InboundMessage, { type: T }>;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
