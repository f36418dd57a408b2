// The update-received log lines: per family, End-of-RIB (RFC 4724 §2) and
// RFC 7606 treat-as-withdraw at warn level.
import { describe, expect, it } from 'vitest';
import { logUpdate, updateSummary } from '../../../src/bgp/session/session-log.js';
import type { UpdateMessage } from '../../../src/bgp/wire/types.js';
import { wireError } from '../../../src/bgp/wire/errors.js';
import { prefixParse } from '../../../src/lib/prefix.js';
import { recordingLogger } from '../../helpers/session.js';

const p = (t: string) => prefixParse(t)!;
const empty = (family: 'ipv4-unicast' | 'ipv6-unicast' = 'ipv4-unicast') => ({ family, prefixes: [] });

describe('updateSummary', () => {
  it('recognises IPv4 and IPv6 End-of-RIB', () => {
    const v4: UpdateMessage = { type: 'update', withdrawn: empty(), attributes: {}, nlri: empty() };
    expect(updateSummary(v4).get('ipv4-unicast')?.endOfRib).toBe('ipv4-unicast');
    const v6: UpdateMessage = { type: 'update', withdrawn: empty(), attributes: { mpUnreach: { nlri: empty('ipv6-unicast') } }, nlri: empty() };
    const s = updateSummary(v6);
    expect([...s.keys()]).toEqual(['ipv6-unicast']);
    expect(s.get('ipv6-unicast')?.endOfRib).toBe('ipv6-unicast');
  });

  it('splits an UPDATE per family with next hops and counts', () => {
    const u: UpdateMessage = {
      type: 'update',
      withdrawn: { family: 'ipv4-unicast', prefixes: [p('10.0.0.0/24')] },
      attributes: {
        nextHop: '192.0.2.1',
        mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::1', nlri: { family: 'ipv6-unicast', prefixes: [p('2001:db8:1::/48')] } },
      },
      nlri: { family: 'ipv4-unicast', prefixes: [p('10.1.0.0/26'), p('10.1.0.64/26')] },
    };
    const s = updateSummary(u);
    expect(s.get('ipv4-unicast')).toEqual({
      announced: ['10.1.0.0/26', '10.1.0.64/26'],
      withdrawn: ['10.0.0.0/24'],
      announcedCount: 2,
      withdrawnCount: 1,
      nextHop: '192.0.2.1',
    });
    expect(s.get('ipv6-unicast')).toMatchObject({ announced: ['2001:db8:1::/48'], nextHop: '2001:db8::1' });
    expect(s.get('ipv6-unicast')?.endOfRib).toBeUndefined();
  });

  it('lists at most 1000 prefixes but counts them all', () => {
    const prefixes = Array.from({ length: 1500 }, (_, i) => (10 * 2 ** 24 + i * 256) * 64 + 24);
    const u: UpdateMessage = { type: 'update', withdrawn: empty(), attributes: { nextHop: '192.0.2.1' }, nlri: { family: 'ipv4-unicast', prefixes } };
    const l = updateSummary(u).get('ipv4-unicast')!;
    expect(l.announced).toHaveLength(1000);
    expect(l.announcedCount).toBe(1500);
  });
});

describe('logUpdate', () => {
  it('logs treat-as-withdraw at warn with the reason, announced prefixes as withdrawn', () => {
    const { logger, lines } = recordingLogger('info');
    const update: UpdateMessage = {
      type: 'update',
      withdrawn: empty(),
      attributes: { nextHop: '192.0.2.1', asPath: [{ type: 2, asns: [65001, 65002] }] },
      nlri: { family: 'ipv4-unicast', prefixes: [p('10.2.0.0/16')] },
    };
    logUpdate(logger, { peer: '192.0.2.1', asn: 65001 }, {
      type: 'update',
      update,
      treatAsWithdraw: wireError(3, 6, 'invalid ORIGIN 7', Buffer.alloc(0), 'treat-as-withdraw'),
      discarded: [],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      event: 'update-received',
      peer: '192.0.2.1',
      family: 'ipv4-unicast',
      announced: [],
      withdrawn: ['10.2.0.0/16'],
      withdrawnCount: 1,
      asPath: [65001, 65002],
      treatAsWithdraw: 'invalid ORIGIN 7',
    });
  });

  it('logs plain UPDATEs only at debug', () => {
    const info = recordingLogger('info');
    const debug = recordingLogger('debug');
    const d = { type: 'update' as const, update: { type: 'update' as const, withdrawn: empty(), attributes: {}, nlri: empty() }, discarded: [] };
    logUpdate(info.logger, { peer: 'x', asn: 1 }, d);
    logUpdate(debug.logger, { peer: 'x', asn: 1 }, d);
    expect(info.lines).toHaveLength(0);
    expect(debug.lines[0]).toMatchObject({ level: 20, event: 'update-received', endOfRib: 'ipv4-unicast' });
  });
});
