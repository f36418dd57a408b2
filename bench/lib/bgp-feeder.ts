// A minimal BGP-4 speaker for benchmarks (RFC 4271 §4: OPEN, KEEPALIVE,
// UPDATE; RFC 6793 four-octet AS capability), built on our codec and run as
// its own process so it can live in another network namespace (`ip netns
// exec NS node bgp-feeder.js ...`). It connects to bgp-ts, waits for the
// peer's KEEPALIVE (the session is up, §8.2.2 OpenConfirm -> Established),
// then takes commands on stdin, one JSON object a line, and answers on
// stdout with wall-clock times (performance.timeOrigin + now(), comparable
// across processes on one host):
//   {"cmd":"bulk","first":0,"n":100000}   N /26 from 10.0.0.0 in packed UPDATEs -> {"sent":t0}
//   {"cmd":"one","i":123}                  one single-prefix UPDATE             -> {"i":123,"sent":t}
// Usage: bgp-feeder.js LOCAL_ADDR PEER_ADDR PORT ASN NEXT_HOP

import { once } from 'node:events';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { encodeMessage } from '../../src/bgp/wire/message.js';
import { DEFAULT_CODEC_CONTEXT, type CodecContext, type PathAttributes } from '../../src/bgp/wire/types.js';
import { v4Key, v4Parse } from '../../src/lib/prefix.js';
import { packUpdates } from '../../src/rib/update-packer.js';

/** The i-th benchmark prefix: 10.0.0.0/26 + i blocks. */
export const feederPrefix = (i: number): number => v4Key((0x0a000000 + i * 64) >>> 0, 26);

const wall = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const [local, peer, port, asn, nextHop] = process.argv.slice(2);
  const as = Number(asn);
  const ctx: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
  const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: nextHop!, localPref: 100 };
  // bgp-ts may still be starting: retry the connection for up to 20 s.
  let s = connect({ host: peer!, port: Number(port), localAddress: local! });
  for (let tries = 0; ; tries++) {
    try {
      await once(s, 'connect');
      break;
    } catch (e) {
      if (tries >= 200) throw e;
      await new Promise((r) => setTimeout(r, 100));
      s = connect({ host: peer!, port: Number(port), localAddress: local! });
    }
  }
  s.setNoDelay(true);
  const keepalive = encodeMessage({ type: 'keepalive' }, DEFAULT_CODEC_CONTEXT);
  s.write(
    encodeMessage(
      { type: 'open', version: 4, myAs: as > 0xffff ? 23456 : as, holdTime: 90, bgpId: v4Parse(local!)!, capabilities: [{ kind: 'multiprotocol', code: 1, afi: 1, safi: 1 }, { kind: 'four-octet-as', code: 65, asn: as }] },
      DEFAULT_CODEC_CONTEXT,
    ),
  );
  s.write(keepalive);
  const timer = setInterval(() => s.write(keepalive), 10_000);
  s.on('close', () => {
    clearInterval(timer);
    process.exit(0);
  });
  s.on('error', () => undefined);
  // Up once the peer's KEEPALIVE (type 4) arrives; everything it sends later is ignored.
  await new Promise<void>((resolve) => {
    let seen = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      seen = Buffer.concat([seen, d]);
      for (let p = 0; p + 19 <= seen.length; p += seen.readUInt16BE(p + 16)) {
        if (seen[p + 18] === 4) {
          s.off('data', onData);
          s.on('data', () => undefined);
          return resolve();
        }
        if (seen.readUInt16BE(p + 16) < 19) break;
      }
    };
    s.on('data', onData);
  });
  process.stdout.write(`${JSON.stringify({ up: wall() })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const c = JSON.parse(line) as { cmd: 'bulk'; first: number; n: number } | { cmd: 'one'; i: number } | { cmd: 'quit' };
    if (c.cmd === 'quit') break;
    if (c.cmd === 'bulk') {
      const keys: number[] = [];
      for (let i = c.first; i < c.first + c.n; i++) keys.push(feederPrefix(i));
      const msgs = packUpdates(attrs, 'ipv4-unicast', keys, ctx);
      const sent = wall();
      for (const m of msgs) if (!s.write(m)) await once(s, 'drain');
      process.stdout.write(`${JSON.stringify({ sent, updates: msgs.length })}\n`);
    } else {
      const [m] = packUpdates(attrs, 'ipv4-unicast', [feederPrefix(c.i)], ctx);
      const sent = wall();
      s.write(m!);
      process.stdout.write(`${JSON.stringify({ i: c.i, sent })}\n`);
    }
  }
  s.end();
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) await main();
