// A live bgp-ts for the wire robustness tests: startDaemon in-process on a
// loopback address (FIB off, no API), a listen range for throwaway fuzz peers
// (each case dials from a fresh source address, so a reset session never
// damps the next), and a witness peer (a configured eBGP neighbor, hold time
// 3 s, keepalives every second) that announces one route and records what it
// is sent. After every case the witness must still be Established on its
// first session with its route in the Loc-RIB. Any uncaught exception or
// unhandled rejection in the process is recorded and fails the test.
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { Framer, encodeMessage, type InboundMessage } from '../../src/bgp/wire/index.js';
import type { Capability, CodecContext, NotificationMessage } from '../../src/bgp/wire/types.js';
import { prefixParse, v4Parse, type PrefixKey } from '../../src/lib/prefix.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { recordingLogger, until } from '../helpers/session.js';
import { hex } from '../helpers/hex.js';

export { until };
export const k = (text: string): PrefixKey => prefixParse(text)!;

/** What the fuzz peers negotiate: 4-octet AS, IPv4 and IPv6 unicast, no extended messages (4096 max). */
export const FUZZ_CTX: CodecContext = { fourOctetAs: true, extendedMessage: false, addPathReceive: { 'ipv4-unicast': false, 'ipv6-unicast': false }, addPathSend: { 'ipv4-unicast': false, 'ipv6-unicast': false } };

export interface LiveOptions {
  /** The daemon's address, e.g. "127.0.0.81"; the witness is this address + 1. */
  readonly address: string;
  /** The listen range of the fuzz peers, e.g. "127.1.0.0/16". */
  readonly range: string;
  /** More settings for the listen range, as YAML flow entries (e.g. "addPath: both"). */
  readonly rangeExtra?: string;
}

export const DAEMON_ASN = 65081;
export const FUZZ_ASN = 65082;
export const WITNESS_ASN = 65083;
export const WITNESS_PREFIX = '10.83.0.0/16';

export class Live {
  readonly faults: unknown[] = [];
  private keepalive: NodeJS.Timeout | undefined;
  private next = 1;
  private transitions = 0;
  private readonly onFault = (e: unknown) => this.faults.push(e);
  /** The witness's own 4096-octet framing of what it is sent (it never negotiates extended messages). */
  private readonly strict = new Framer(4096);
  private framingError: string | undefined;
  private constructor(
    readonly daemon: Daemon,
    readonly witness: RawPeer,
    readonly witnessAddress: string,
    readonly lines: Record<string, unknown>[],
    private readonly opts: LiveOptions,
  ) {}

  static async start(opts: LiveOptions): Promise<Live> {
    const octets = opts.address.split('.').map(Number);
    const witnessAddress = `${octets[0]}.${octets[1]}.${octets[2]}.${octets[3]! + 1}`;
    const yaml = `
routerId: 10.0.0.81
asn: ${DAEMON_ASN}
listen: { addresses: ["${opts.address}"], port: 0 }
api: { listen: none }
fib: { enabled: false }
neighbors:
  - { address: ${witnessAddress}, asn: ${WITNESS_ASN}, passive: true, holdTime: 3 }
listenRanges:
  - { prefix: ${opts.range}, asn: ${FUZZ_ASN}, holdTime: 90${opts.rangeExtra ? `, ${opts.rangeExtra}` : ''} }
`;
    const c = parseConfig(yaml);
    if (!c.ok) throw new Error(JSON.stringify(c.errors));
    const log = recordingLogger('info');
    const daemon = await startDaemon(c.config, { logger: log.logger });
    const witness = await RawPeer.connect(opts.address, daemon.listenPort!, witnessAddress);
    const live = new Live(daemon, witness, witnessAddress, log.lines, opts);
    witness.socket.on('data', (chunk: Buffer) => {
      const out = live.strict.push(chunk);
      if (out.error) live.framingError ??= out.error.reason;
    });
    process.on('uncaughtException', live.onFault);
    process.on('unhandledRejection', live.onFault);
    await witness.waitFor('open');
    // The witness speaks 2-octet AS (no RFC 6793 capability): RawPeer decodes with the default context.
    witness.write(encodeMessage({ type: 'open', version: 4, myAs: WITNESS_ASN, holdTime: 3, bgpId: v4Parse('10.0.0.83')!, capabilities: [{ kind: 'multiprotocol', code: 1, afi: 1, safi: 1 }] }, FUZZ_CTX));
    witness.sendKeepalive();
    live.keepalive = setInterval(() => witness.sendKeepalive(), 1000);
    await until(() => daemon.peer(witnessAddress)?.state === 'Established', 3000, 'witness Established');
    witness.write(hex`
      ffffffff ffffffff ffffffff ffffffff  # marker
      002c 02                              # length 44, UPDATE
      0000                                 # no withdrawn routes
      0012                                 # path attributes: 18 octets
      40 01 01 00                          # ORIGIN IGP
      40 02 04 02 01 ffbb                  # AS_PATH: AS_SEQUENCE [65083] (2-octet)
      40 03 04 ${ipHex(witnessAddress)}    # NEXT_HOP the witness
      10 0a53                              # NLRI 10.83.0.0/16`);
    await until(() => daemon.rib.locRib.best(k(WITNESS_PREFIX)) !== undefined, 3000, 'witness route');
    live.transitions = live.establishedTransitions();
    return live;
  }

  private establishedTransitions(): number {
    return this.lines.filter((l) => l.event === 'session-established' && l.peer === this.witnessAddress).length;
  }

  /** The witness is still on its first session, holds no NOTIFICATION, and its route is still best. */
  witnessHealthy(): string | undefined {
    if (this.faults.length > 0) return `process fault: ${String((this.faults[0] as Error)?.stack ?? this.faults[0])}`;
    if (this.witness.closed) return 'witness connection closed';
    if (this.framingError) return `the daemon sent the witness a message it cannot frame: ${this.framingError}`;
    const n = this.witness.received.find((m) => m.type === 'notification');
    if (n) return `witness got a NOTIFICATION ${JSON.stringify(n)}`;
    if (this.daemon.peer(this.witnessAddress)?.state !== 'Established') return `witness state ${this.daemon.peer(this.witnessAddress)?.state}`;
    if (this.establishedTransitions() !== this.transitions) return 'witness session was re-established';
    if (this.daemon.rib.locRib.best(k(WITNESS_PREFIX))?.peer.address !== this.witnessAddress) return 'witness route gone';
    return undefined;
  }

  /** The witness's view of what the daemon advertised to it: prefix → present. */
  witnessHas(prefix: string): boolean {
    const key = k(prefix);
    let present = false;
    for (const m of this.witness.received) {
      if (m.type !== 'update') continue;
      const u = m.update;
      if (u.withdrawn.prefixes.includes(key) || u.attributes.mpUnreach?.nlri.prefixes.includes(key)) present = false;
      if (u.nlri.prefixes.includes(key) || u.attributes.mpReach?.nlri.prefixes.includes(key)) present = true;
    }
    return present;
  }

  /** The next unused source address in the fuzz range. */
  nextAddress(): string {
    const n = this.next++;
    const [a, b] = this.opts.range.split('.');
    return `${a}.${b}.${(n >> 8) & 255}.${n & 255}`;
  }

  /** A fuzz peer from a fresh address, after the daemon's OPEN (the daemon is in OpenSent). */
  async dial(): Promise<{ peer: RawPeer; address: string }> {
    const address = this.nextAddress();
    const peer = await RawPeer.connect(this.opts.address, this.daemon.listenPort!, address);
    await peer.waitFor('open');
    return { peer, address };
  }

  /** A fuzz peer through OPEN/KEEPALIVE to Established. */
  async established(caps: readonly Capability[] = FUZZ_CAPS): Promise<{ peer: RawPeer; address: string }> {
    const { peer, address } = await this.dial();
    peer.write(encodeMessage({ type: 'open', version: 4, myAs: FUZZ_ASN, holdTime: 90, bgpId: v4Parse(address)!, capabilities: caps }, FUZZ_CTX));
    peer.sendKeepalive();
    await until(() => this.daemon.peer(address)?.state === 'Established', 3000, `${address} Established`);
    return { peer, address };
  }

  async stop(): Promise<void> {
    clearInterval(this.keepalive);
    this.witness.destroy();
    await this.daemon.stop();
    process.off('uncaughtException', this.onFault);
    process.off('unhandledRejection', this.onFault);
  }
}

export const FUZZ_CAPS: readonly Capability[] = [
  { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
  { kind: 'multiprotocol', code: 1, afi: 2, safi: 1 },
  { kind: 'four-octet-as', code: 65, asn: FUZZ_ASN },
];

export function ipHex(address: string): string {
  return v4Parse(address)!.toString(16).padStart(8, '0');
}

/** The NOTIFICATION a peer received and that its connection then closed. */
export async function notified(peer: RawPeer, ms = 3000): Promise<NotificationMessage> {
  const n = await peer.waitFor('notification', ms);
  await until(() => peer.closed, ms, 'connection closed after the NOTIFICATION');
  return n;
}

/** A message with a correct header around `body`. */
export function message(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

export type { InboundMessage, RawPeer };
