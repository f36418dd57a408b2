// The fan-out benchmark's receive tally (bench/lib/fanout-tally.ts): whether a
// client holds exactly the others' blocks is the benchmark's pass/fail, so it
// is checked here against UPDATEs built by our own codec (RFC 4271 §4.3,
// RFC 4456 §8 ORIGINATOR_ID), split at every byte, wrong in each way it can be.

import { describe, expect, it } from 'vitest';
import { endOfRib } from '../../src/bgp/wire/eor.js';
import { encodeMessage } from '../../src/bgp/wire/message.js';
import { DEFAULT_CODEC_CONTEXT, type CodecContext, type PathAttributes } from '../../src/bgp/wire/types.js';
import { v4Key } from '../../src/lib/prefix.js';
import { packUpdates, packWithdrawUpdates } from '../../src/rib/update-packer.js';
import {
  ClientTally,
  SAW_KEEPALIVE,
  SAW_OPEN,
  blockAddress,
  checkPlan,
  clientAddress,
  countersSince,
  copyCounters,
  dotted,
  expectedHeld,
  median,
  spread,
  type FanoutPlan,
} from '../../bench/lib/fanout-tally.js';

const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
const plan: FanoutPlan = { clients: 5, blocks: 4 };
const SELF = 2;

const blocks = (owner: number, ks: readonly number[] = [0, 1, 2, 3]): number[] => ks.map((k) => v4Key(blockAddress(plan, owner, k), 26));

/** What a reflector sends client SELF for originator `owner`, as one or more UPDATEs. */
function reflected(owner: number, over: Partial<PathAttributes> = {}, ks?: readonly number[]): Buffer[] {
  const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: dotted(clientAddress(owner)), localPref: 100, originatorId: clientAddress(owner), clusterList: [0x0a000001], ...over };
  return packUpdates(attrs, 'ipv4-unicast', blocks(owner, ks), CTX);
}

const feed = (t: ClientTally, msgs: readonly Buffer[]): void => {
  for (const m of msgs) t.push(m);
};

describe('fan-out plan', () => {
  it('gives each client its own address and K disjoint /26 blocks', () => {
    expect(dotted(clientAddress(0))).toBe('10.1.0.1');
    expect(dotted(clientAddress(2499))).toBe('10.1.9.196');
    expect(dotted(blockAddress({ clients: 2500, blocks: 4 }, 0, 1))).toBe('100.64.0.64');
    expect(dotted(blockAddress({ clients: 2500, blocks: 4 }, 2499, 3))).toBe('100.73.195.192') // block 9999: 9999·64 = 0x9c3c0 past 100.64.0.0;
    expect(expectedHeld({ clients: 1000, blocks: 4 })).toBe(3996);
  });

  it('refuses plans that do not fit the address ranges, naming the knob', () => {
    expect(() => checkPlan({ clients: 1, blocks: 4 })).toThrow(/FANOUT_C/);
    expect(() => checkPlan({ clients: 70_000, blocks: 1 })).toThrow(/FANOUT_C/);
    expect(() => checkPlan({ clients: 100, blocks: 0 })).toThrow(/FANOUT_K/);
    expect(() => checkPlan({ clients: 20_000, blocks: 4 })).toThrow(/exceeds/);
    expect(() => checkPlan({ clients: 2500, blocks: 4 })).not.toThrow();
  });
});

describe('ClientTally', () => {
  it('is complete exactly when it holds every other client’s blocks with the right attributes', () => {
    const t = new ClientTally(plan, SELF);
    for (const o of [0, 1, 3]) feed(t, reflected(o));
    expect(t.held).toBe(12);
    expect(t.complete).toBe(false);
    feed(t, reflected(4));
    expect(t.held).toBe(expectedHeld(plan));
    expect(t.complete).toBe(true);
    expect(t.counters.announceUpdates).toBe(4);
    expect(t.counters.wholeOriginators).toBe(4);
    expect(t.counters.nlriAnnounced).toBe(16);
  });

  it('counts the same through a stream split at every byte offset', () => {
    const stream = Buffer.concat([encodeMessage({ type: 'keepalive' }, DEFAULT_CODEC_CONTEXT), ...[0, 1, 3, 4].flatMap((o) => reflected(o))]);
    for (let cut = 1; cut < stream.length; cut++) {
      const t = new ClientTally(plan, SELF);
      const saw = t.push(stream.subarray(0, cut)) | t.push(stream.subarray(cut));
      expect(t.complete, `cut at ${cut}`).toBe(true);
      expect(saw & SAW_KEEPALIVE).toBe(SAW_KEEPALIVE);
      expect(t.counters.messages).toBe(5);
      expect(t.counters.bytes).toBe(stream.length);
    }
  });

  it('does not count an originator split over two UPDATEs as whole, yet holds its blocks', () => {
    const t = new ClientTally(plan, SELF);
    feed(t, [...reflected(0, {}, [0]), ...reflected(0, {}, [1, 2, 3])]);
    expect(t.held).toBe(4);
    expect(t.counters.announceUpdates).toBe(2);
    expect(t.counters.wholeOriginators).toBe(0);
  });

  it('flags its own blocks reflected back, a wrong next hop, a missing ORIGINATOR_ID, a foreign prefix', () => {
    const own = new ClientTally(plan, SELF);
    feed(own, reflected(SELF));
    expect(own.counters.ownPrefixes).toBe(4);
    expect(own.held).toBe(0);

    const nh = new ClientTally(plan, SELF);
    feed(nh, reflected(0, { nextHop: dotted(clientAddress(1)) }));
    expect(nh.counters.wrongNextHop).toBe(4);

    const orig = new ClientTally(plan, SELF);
    feed(orig, reflected(0, { originatorId: undefined }));
    expect(orig.counters.wrongOriginator).toBe(4);

    const foreign = new ClientTally(plan, SELF);
    const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: '10.1.0.1', localPref: 100, originatorId: clientAddress(0) };
    feed(foreign, packUpdates(attrs, 'ipv4-unicast', [v4Key(0xc0000200, 24), v4Key(blockAddress(plan, 0, 0) + 32, 27), v4Key(blockAddress(plan, 5, 0), 26)], CTX));
    expect(foreign.counters.foreignPrefixes).toBe(3);

    for (const t of [own, nh, orig, foreign]) expect(t.wrong).toBeGreaterThan(0);
    // the others' blocks arriving right later do not make a client that saw a wrong one complete
    for (const o of [0, 1, 3, 4]) feed(own, reflected(o));
    expect(own.held).toBe(expectedHeld(plan));
    expect(own.complete).toBe(false);
  });

  it('lets a wrong route replace a held one (the newer route wins)', () => {
    const t = new ClientTally(plan, SELF);
    feed(t, reflected(0));
    feed(t, reflected(0, { nextHop: '192.0.2.9' }, [1]));
    expect(t.held).toBe(3);
    expect(t.holds(1)).toBe(false);
  });

  it('withdraws what it holds, ignores withdrawals of what it does not, and counts End-of-RIB', () => {
    const t = new ClientTally(plan, SELF);
    for (const o of [0, 1, 3, 4]) feed(t, reflected(o));
    feed(t, packWithdrawUpdates('ipv4-unicast', [...blocks(0), ...blocks(1), ...blocks(SELF)], CTX));
    expect(t.held).toBe(8);
    feed(t, packWithdrawUpdates('ipv4-unicast', [...blocks(3), ...blocks(4)], CTX));
    expect(t.held).toBe(0);
    expect(t.counters.withdrawUpdates).toBe(2);
    expect(t.counters.nlriWithdrawn).toBe(20);
    t.push(encodeMessage(endOfRib('ipv4-unicast'), CTX));
    expect(t.counters.endOfRib).toBe(1);
  });

  it('reports OPEN and stops at a broken marker without throwing', () => {
    const t = new ClientTally(plan, SELF);
    const open = encodeMessage(
      { type: 'open', version: 4, myAs: 64512, holdTime: 240, bgpId: 1, capabilities: [{ kind: 'four-octet-as', code: 65, asn: 64512 }] },
      DEFAULT_CODEC_CONTEXT,
    );
    expect(t.push(open) & SAW_OPEN).toBe(SAW_OPEN);
    const bad = Buffer.from(reflected(0)[0]!);
    bad[3] = 0;
    expect(() => t.push(bad)).not.toThrow();
    expect(t.counters.malformed).toBe(1);
    expect(t.push(reflected(1)[0]!)).toBe(0);
    expect(t.held).toBe(0);
  });

  it('flags an UPDATE whose field lengths overrun the message', () => {
    const t = new ClientTally(plan, SELF);
    const m = Buffer.from(reflected(0)[0]!);
    m.writeUInt16BE(0xff00, 19); // Withdrawn Routes Length past the end
    t.push(m);
    expect(t.counters.malformed).toBe(1);
    expect(t.held).toBe(0);
  });

  it('reports counter deltas since a mark', () => {
    const t = new ClientTally(plan, SELF);
    feed(t, reflected(0));
    const mark = copyCounters(t.counters);
    feed(t, reflected(1));
    const d = countersSince(t.counters, mark);
    expect(d.announceUpdates).toBe(1);
    expect(d.nlriAnnounced).toBe(4);
  });
});

describe('spread and median', () => {
  it('summarises per-client values', () => {
    expect(spread([3, 1, 2, 10])).toEqual({ total: 16, min: 1, median: 2.5, max: 10 });
    expect(median([5, NaN, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });
});
