// RFC 7606 verdicts for malformed path attributes: the action, NOTIFICATION
// code/subcode and data (RFC 4271 §6.3: the erroneous attribute), and that a
// treat-as-withdraw UPDATE still carries every NLRI it announced.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../helpers/hex.js';
import { decodeUpdate } from '../../../src/bgp/wire/update.js';
import { prefixParse } from '../../../src/lib/prefix.js';
import { NEW, OLD, body } from './attrs-helpers.js';

// 10.0.1.0/24
const NLRI = '18 0a0001';
// ORIGIN igp, empty AS_PATH, NEXT_HOP 192.0.2.1
const GOOD = '40 01 01 00   40 02 00   40 03 04 c0000201';
const GOOD_NO_NH = '40 01 01 00   40 02 00';

/** [case, attribute octets, action, subcode]: data must be the attribute's own octets. */
const ATTRIBUTE_CASES: [string, string, string, 'treat-as-withdraw' | 'attribute-discard', number][] = [
  ['ORIGIN undefined value 3', GOOD.replace('40 01 01 00', ''), '40 01 01 03', 'treat-as-withdraw', 6],
  ['ORIGIN length 2', GOOD.replace('40 01 01 00', ''), '40 01 02 0000', 'treat-as-withdraw', 6],
  ['AS_PATH unknown segment type 5', '40 01 01 00  40 03 04 c0000201', '40 02 04 05 01 fc00', 'treat-as-withdraw', 11],
  ['AS_PATH segment overruns', '40 01 01 00  40 03 04 c0000201', '40 02 04 02 02 fc00', 'treat-as-withdraw', 11],
  ['AS_PATH zero-length segment', '40 01 01 00  40 03 04 c0000201', '40 02 02 02 00', 'treat-as-withdraw', 11],
  ['NEXT_HOP length 5', GOOD_NO_NH, '40 03 05 c000020100', 'treat-as-withdraw', 5],
  ['MULTI_EXIT_DISC length 3', GOOD, '80 04 03 000064', 'treat-as-withdraw', 5],
  ['LOCAL_PREF length 5', GOOD, '40 05 05 0000006400', 'treat-as-withdraw', 5],
  ['COMMUNITIES length 5', GOOD, 'c0 08 05 fc00006400', 'treat-as-withdraw', 9],
  ['COMMUNITIES length 0', GOOD, 'c0 08 00', 'treat-as-withdraw', 9],
  ['ORIGINATOR_ID length 3', GOOD, '80 09 03 c00002', 'treat-as-withdraw', 5],
  ['CLUSTER_LIST length 6', GOOD, '80 0a 06 c0000201 0000', 'treat-as-withdraw', 5],
  ['CLUSTER_LIST length 0', GOOD, '80 0a 00', 'treat-as-withdraw', 5],
  ['EXTENDED_COMMUNITIES length 9', GOOD, 'c0 10 09 0002fc000000006400', 'treat-as-withdraw', 9],
  ['LARGE_COMMUNITY length 13', GOOD, 'c0 20 0d 0000fc00 00000001 00000002 00', 'treat-as-withdraw', 9],
  ['ORIGIN flagged optional (RFC 7606 §3 c)', GOOD.replace('40 01 01 00', ''), 'c0 01 01 00', 'treat-as-withdraw', 4],
  ['COMMUNITIES flagged well-known', GOOD, '40 08 04 fc000064', 'treat-as-withdraw', 4],
  ['ATOMIC_AGGREGATE length 1', GOOD, '40 06 01 00', 'attribute-discard', 5],
  ['AGGREGATOR length 7 on a 4-octet session', GOOD, 'c0 07 07 0000fc00 010203', 'attribute-discard', 5],
];

describe('malformed attributes (RFC 7606 §7)', () => {
  for (const [name, rest, bad, action, subcode] of ATTRIBUTE_CASES) {
    it(`${name} → ${action}`, () => {
      const r = decodeUpdate(body(`${rest}\n${bad}`, NLRI), NEW);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const err = action === 'treat-as-withdraw' ? r.value.treatAsWithdraw : r.value.discarded[0];
      expect(err).toMatchObject({ action, code: 3, subcode, data: fromHex(bad) });
      // The NLRI stays so the caller can withdraw it.
      expect(r.value.update.nlri.prefixes).toEqual([prefixParse('10.0.1.0/24')]);
      if (action === 'attribute-discard') {
        expect(r.value.treatAsWithdraw).toBeUndefined();
        expect(r.value.update.attributes).toEqual({ origin: 0, asPath: [], nextHop: '192.0.2.1' });
      }
    });
  }

  it('AGGREGATOR of 8 octets on a 2-octet session is discarded', () => {
    const r = decodeUpdate(body(`${GOOD} c0 07 08 0000fc00 01020304`, NLRI), OLD);
    expect(r.ok && r.value.discarded.map((e) => e.subcode)).toEqual([5]);
    expect(r.ok && r.value.update.attributes.aggregator).toBeUndefined();
  });

  it('malformed AS4_PATH and AS4_AGGREGATOR are discarded (RFC 6793 §6)', () => {
    const r = decodeUpdate(
      body(`${GOOD} c0 11 03 02 01 00   c0 12 06 0000fc00 0102  # AS4_PATH truncated, AS4_AGGREGATOR short`, NLRI),
      OLD,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.treatAsWithdraw).toBeUndefined();
    expect(r.value.discarded.map((e) => [e.action, e.data.toString('hex')])).toEqual([
      ['attribute-discard', 'c011030201' + '00'],
      ['attribute-discard', 'c012060000fc000102'],
    ]);
    expect(r.value.update.attributes.asPath).toEqual([]);
  });

  it('AS4_PATH with a confederation segment is discarded', () => {
    const r = decodeUpdate(body(`${GOOD} c0 11 06 03 01 0000fde9`, NLRI), OLD);
    expect(r.ok && r.value.discarded[0]?.action).toBe('attribute-discard');
  });

  it('keeps the first of duplicate attributes and discards the rest (RFC 7606 §3 g)', () => {
    const r = decodeUpdate(body(`${GOOD} 40 01 01 02  # second ORIGIN`, NLRI), NEW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.update.attributes.origin).toBe(0);
    expect(r.value.discarded).toMatchObject([{ action: 'attribute-discard', data: fromHex('40 01 01 02') }]);
    expect(r.value.treatAsWithdraw).toBeUndefined();
  });

  it('resets the session on a repeated MP_REACH_NLRI (RFC 7606 §3 g)', () => {
    const mp = '80 0e 15 0002 01 10 20010db8000000000000000000000001 00';
    const r = decodeUpdate(body(`${mp} ${mp} ${GOOD_NO_NH}`), NEW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ action: 'session-reset', code: 3, subcode: 1 });
  });

  it('resets the session on an unrecognized well-known attribute with the attribute as data', () => {
    const r = decodeUpdate(body(`${GOOD} 40 63 01 ff`, NLRI), NEW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ action: 'session-reset', code: 3, subcode: 2, data: fromHex('40 63 01 ff') });
  });

  for (const [missing, attrs] of [
    [1, '40 02 00  40 03 04 c0000201'],
    [2, '40 01 01 00  40 03 04 c0000201'],
    [3, '40 01 01 00  40 02 00'],
  ] as const) {
    it(`missing well-known type ${missing} with NLRI → treat-as-withdraw (RFC 7606 §3 d)`, () => {
      const r = decodeUpdate(body(attrs, NLRI), NEW);
      expect(r.ok && r.value.treatAsWithdraw).toMatchObject({ subcode: 3, data: Buffer.from([missing]) });
    });
  }

  it('needs no NEXT_HOP when the only NLRI is in MP_REACH_NLRI', () => {
    const mp = '80 0e 1e 0002 01 10 20010db8000000000000000000000001 00 40 20010db800000001';
    const r = decodeUpdate(body(`${mp}\n${GOOD_NO_NH}`), NEW);
    expect(r.ok && r.value.treatAsWithdraw).toBeUndefined();
  });

  it('needs no attributes at all in a withdraw-only UPDATE', () => {
    const r = decodeUpdate(body('', '', NLRI), NEW);
    expect(r.ok && r.value.treatAsWithdraw).toBeUndefined();
    expect(r.ok && r.value.update.withdrawn.prefixes).toEqual([prefixParse('10.0.1.0/24')]);
  });

  it('with a flags error on MP_REACH_NLRI still reads its NLRI and treats them as withdrawn', () => {
    const mp = 'c0 0e 1e 0002 01 10 20010db8000000000000000000000001 00 40 20010db800000001  # transitive bit wrongly set';
    const r = decodeUpdate(body(`${mp}\n${GOOD_NO_NH}`), NEW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.treatAsWithdraw).toMatchObject({ subcode: 4 });
    expect(r.value.update.attributes.mpReach?.nlri.prefixes).toEqual([prefixParse('2001:db8:0:1::/64')]);
  });

  it('keeps MP_REACH NLRI when a later attribute is malformed', () => {
    const mp = '80 0e 1e 0002 01 10 20010db8000000000000000000000001 00 40 20010db800000001';
    const r = decodeUpdate(body(`${mp} 40 01 01 07 40 02 00`), NEW);
    expect(r.ok && r.value.treatAsWithdraw?.subcode).toBe(6);
    expect(r.ok && r.value.update.attributes.mpReach?.nlri.prefixes).toEqual([prefixParse('2001:db8:0:1::/64')]);
  });
});

describe('malformed MP_REACH_NLRI / MP_UNREACH_NLRI → session reset (RFC 7606 §7.11, §7.12)', () => {
  const cases: [string, string][] = [
    ['next hop length 5', '80 0e 0a 0002 01 05 0102030405 00'],
    ['next hop overruns', '80 0e 06 0002 01 10 0000'],
    ['too short', '80 0e 03 0002 01'],
    ['prefix length 129', '80 0e 18 0002 01 10 20010db8000000000000000000000001 00 81 00 00'],
    ['prefix overruns', '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 40 20010db8'],
    ['MP_UNREACH prefix length 129', '80 0f 05 0002 01 81 00'],
    ['MP_UNREACH too short', '80 0f 02 0002'],
  ];
  for (const [name, attr] of cases) {
    it(name, () => {
      const r = decodeUpdate(body(`${attr}\n${GOOD_NO_NH}`), NEW);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ action: 'session-reset', code: 3, subcode: 9, data: fromHex(attr) });
    });
  }

  it('an AFI/SAFI we do not carry is discarded, not fatal (RFC 4760 §7)', () => {
    const r = decodeUpdate(body(`80 0e 0a 0001 80 04 c0000201 00 00  # IPv4 SAFI 128
${GOOD_NO_NH}`), NEW);
    expect(r.ok && r.value.discarded[0]?.action).toBe('attribute-discard');
    expect(r.ok && r.value.update.attributes.mpReach).toBeUndefined();
  });
});
