// Wire robustness against a live daemon, part 7: a 2-octet-AS peer (no RFC
// 6793 capability) whose UPDATEs carry AS_TRANS in AS_PATH and AGGREGATOR and
// the real ASNs in AS4_PATH / AS4_AGGREGATOR. The daemon must rebuild the path
// (RFC 6793 §4.2.3), discard malformed AS4_* attributes rather than drop the
// route or the session (RFC 6793 §6, RFC 7606 §7.x), and ignore them when they
// do not fit; then the shared UPDATE fuzzer runs on this session type.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Capability, CodecContext } from '../../src/bgp/wire/types.js';
import { Live } from './live.js';
import { prng } from './prng.js';
import { AGGREGATOR, AS4_AGGREGATOR, AS4_PATH, updateMessage, type RawUpdate } from './update-builder.js';
import { UpdateFuzz, type Case } from './update-fuzz.js';

const TWO_OCTET_CTX: CodecContext = {
  fourOctetAs: false,
  extendedMessage: false,
  addPathReceive: { 'ipv4-unicast': false, 'ipv6-unicast': false },
  addPathSend: { 'ipv4-unicast': false, 'ipv6-unicast': false },
};
const CAPS: readonly Capability[] = [
  { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 },
  { kind: 'multiprotocol', code: 1, afi: 2, safi: 1 },
];

let live: Live;
let fuzz: UpdateFuzz;
beforeAll(async () => {
  live = await Live.start({ address: '127.0.0.151', range: '127.7.0.0/16' });
  fuzz = new UpdateFuzz(live, TWO_OCTET_CTX, undefined, CAPS);
});
afterAll(async () => live?.stop());
afterEach(() => expect(live.witnessHealthy()).toBeUndefined());

const seq = (...asns: number[]) => [{ type: 2, asns }];
const edit = (u: RawUpdate, code: number, f: (a: RawUpdate['attrs'][number]) => void): RawUpdate => {
  f(u.attrs.find((a) => a.code === code)!);
  return u;
};

describe('RFC 6793 on a 2-octet-AS session', () => {
  const cases: { name: string; build: (c: Case) => RawUpdate; asPath: unknown; aggregatorAsn: number }[] = [
    { name: 'AS4_PATH and AS4_AGGREGATOR fold in (§4.2.3)', build: (c) => fuzz.base(c, [c.p]), asPath: seq(65082, 4200000001), aggregatorAsn: 4200000001 },
    {
      name: 'AS4_PATH with segment type 9: discarded, AS_PATH alone (§6)',
      build: (c) => edit(fuzz.base(c, [c.p]), AS4_PATH, (a) => (a.value = Buffer.from('0901' + 'fa56ea01', 'hex'))),
      asPath: seq(65082, 23456),
      aggregatorAsn: 4200000001,
    },
    {
      name: 'AS4_PATH longer than AS_PATH: ignored (§4.2.3)',
      build: (c) => edit(fuzz.base(c, [c.p]), AS4_PATH, (a) => (a.value = Buffer.from('0203' + 'fa56ea01' + 'fa56ea02' + 'fa56ea03', 'hex'))),
      asPath: seq(65082, 23456),
      aggregatorAsn: 4200000001,
    },
    {
      name: 'AS4_PATH without the Transitive bit: discarded (RFC 7606 §3 c, RFC 6793 §6)',
      build: (c) => edit(fuzz.base(c, [c.p]), AS4_PATH, (a) => (a.flags = 0x80)),
      asPath: seq(65082, 23456),
      aggregatorAsn: 4200000001,
    },
    {
      name: 'AS4_AGGREGATOR of 7 octets: discarded, AS4_PATH still folds in',
      build: (c) => edit(fuzz.base(c, [c.p]), AS4_AGGREGATOR, (a) => (a.value = a.value.subarray(0, 7))),
      asPath: seq(65082, 4200000001),
      aggregatorAsn: 23456,
    },
    {
      name: 'AGGREGATOR with a real 2-octet ASN: both AS4_* ignored (§4.2.3)',
      build: (c) => edit(fuzz.base(c, [c.p]), AGGREGATOR, (a) => (a.value = Buffer.from('fe3a' + '0a000052', 'hex'))),
      asPath: seq(65082, 23456),
      aggregatorAsn: 65082,
    },
  ];
  for (const t of cases)
    it(t.name, async () => {
      const c = await fuzz.setUp(false);
      await fuzz.expectVerdict(c, updateMessage(t.build(c)), {
        keep: (a) => {
          expect(a.asPath).toEqual(t.asPath);
          expect((a.aggregator as { asn: number }).asn).toBe(t.aggregatorAsn);
        },
      }, t.name);
    });

  it('60 mutated 2-octet UPDATEs with AS4_*: reset with the RFC 7606 subcodes, treat-as-withdraw, or kept', async () => {
    const seen = await fuzz.runRandom(prng(0x6793_0001), 60);
    expect(seen.reset).toBeGreaterThan(3);
    expect(seen.withdraw).toBeGreaterThan(3);
    expect(seen.kept).toBeGreaterThan(3);
  }, 40_000);
});
