// Transport security encodings: struct tcp_md5sig byte vectors (RFC 2385 keys
// on Linux, layout of /usr/include/linux/tcp.h), the TCP_MD5SIG_EXT prefix
// form for listen ranges, GTSM values (RFC 5082 §3), the listener's GTSM
// choice and the config mapping. No sockets here (socket-options.loopback.test.ts).
import { describe, expect, it } from 'vitest';
import {
  TCP_MD5SIG,
  TCP_MD5SIG_EXT,
  TCP_MD5SIG_SIZE,
  encodeTcpMd5Sig,
  errnoName,
  gtsmMinTtl,
  listenerGtsm,
  listenerSecurityFromConfig,
  md5Option,
  needsSecurity,
} from '../../../src/bgp/session/socket-options.js';

/** Hex with spaces, newlines and `# comments` removed. */
const hex = (annotated: string): Buffer => Buffer.from(annotated.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
const zeros = (n: number): string => '00'.repeat(n);

describe('struct tcp_md5sig', () => {
  it('encodes an IPv4 peer key (TCP_MD5SIG, no flags)', () => {
    const b = encodeTcpMd5Sig({ address: '192.0.2.7', key: Buffer.from('secret') })!;
    expect(b.length).toBe(TCP_MD5SIG_SIZE);
    expect(b).toEqual(
      hex(`
        0200                     # sockaddr_in.sin_family AF_INET (2, host order: little-endian)
        0000                     # sin_port 0
        c0000207                 # sin_addr 192.0.2.7 (network order)
        ${zeros(120)}            # rest of sockaddr_storage (128 octets in all)
        00                       # tcpm_flags: none
        00                       # tcpm_prefixlen: unused without TCP_MD5SIG_FLAG_PREFIX
        0600                     # tcpm_keylen 6 (u16 host order)
        00000000                 # tcpm_ifindex 0: any interface
        736563726574             # tcpm_key "secret"
        ${zeros(74)}             # key padding to 80 octets
      `),
    );
    expect(md5Option(4)).toBe(TCP_MD5SIG);
  });

  it('encodes an IPv6 listen-range key with TCP_MD5SIG_FLAG_PREFIX', () => {
    const b = encodeTcpMd5Sig({ address: '2001:db8::', prefixLength: 32, key: Buffer.from('k') })!;
    expect(b).toEqual(
      hex(`
        0a00                              # sin6_family AF_INET6 (10)
        0000                              # sin6_port
        00000000                          # sin6_flowinfo
        20010db8000000000000000000000000  # sin6_addr 2001:db8::
        00000000                          # sin6_scope_id
        ${zeros(100)}                     # rest of sockaddr_storage
        01                                # tcpm_flags TCP_MD5SIG_FLAG_PREFIX
        20                                # tcpm_prefixlen 32
        0100                              # tcpm_keylen 1
        00000000                          # tcpm_ifindex
        6b ${zeros(79)}                   # tcpm_key "k"
      `),
    );
    expect(md5Option(6, 32)).toBe(TCP_MD5SIG_EXT);
    expect(md5Option(6, 128)).toBe(TCP_MD5SIG);
    expect(md5Option(4, 24)).toBe(TCP_MD5SIG_EXT);
  });

  it('encodes a deletion as key length 0, and a full-length prefix without the flag', () => {
    const del = encodeTcpMd5Sig({ address: '10.0.0.2' })!;
    expect(del.readUInt16LE(130)).toBe(0);
    expect(del.subarray(136).every((x) => x === 0)).toBe(true);
    const host = encodeTcpMd5Sig({ address: '10.0.0.2', prefixLength: 32, key: Buffer.from('x') })!;
    expect([host[128], host[129]]).toEqual([0, 0]);
    const range = encodeTcpMd5Sig({ address: '10.0.0.0', prefixLength: 8, key: Buffer.from('x') })!;
    expect([range[128], range[129]]).toEqual([1, 8]);
  });

  it('takes the key as UTF-8 octets up to 80 and refuses more or a bad address', () => {
    const k80 = Buffer.alloc(80, 0x61);
    const b = encodeTcpMd5Sig({ address: '10.0.0.1', key: k80 })!;
    expect(b.readUInt16LE(130)).toBe(80);
    expect(b.subarray(136, 216)).toEqual(k80);
    expect(encodeTcpMd5Sig({ address: '10.0.0.1', key: Buffer.alloc(81) })).toBeUndefined();
    expect(encodeTcpMd5Sig({ address: 'peer.example', key: Buffer.from('x') })).toBeUndefined();
    expect(encodeTcpMd5Sig({ address: '10.0.0.1', prefixLength: 33 })).toBeUndefined();
    const utf8 = encodeTcpMd5Sig({ address: '10.0.0.1', key: Buffer.from('pä', 'utf8') })!;
    expect(utf8.readUInt16LE(130)).toBe(3);
    expect(utf8.subarray(136, 139)).toEqual(hex('70 c3a4 # "p" "ä" in UTF-8'));
  });
});

describe('GTSM values (RFC 5082 §3)', () => {
  it('accepts TTL >= 256 - hops', () => {
    expect(gtsmMinTtl(1)).toBe(255);
    expect(gtsmMinTtl(2)).toBe(254);
    expect(gtsmMinTtl(254)).toBe(2);
  });

  it('sets a listener minimum only when every source uses GTSM, and then the loosest', () => {
    expect(listenerGtsm({ neighbors: [], ranges: [] })).toEqual({ ttl: -1, minTtl: 0 });
    expect(listenerGtsm({ neighbors: [{ address: '10.0.0.2' }], ranges: [] })).toEqual({ ttl: -1, minTtl: 0 });
    expect(
      listenerGtsm({ neighbors: [{ address: '10.0.0.2', ttlSecurity: 1 }, { address: '10.0.0.3', ttlSecurity: 3 }], ranges: [] }),
    ).toEqual({ ttl: 255, minTtl: 253 });
    // one peer without GTSM: its SYNs (any TTL) must not be dropped; TTL 255 still lets GTSM peers check our SYN-ACK
    expect(
      listenerGtsm({ neighbors: [{ address: '10.0.0.2', ttlSecurity: 1 }], ranges: [{ address: '10.1.0.0', prefixLength: 16 }] }),
    ).toEqual({ ttl: 255, minTtl: 0 });
  });
});

describe('config mapping', () => {
  it('takes password and ttlSecurity from neighbors and listen ranges', () => {
    const s = listenerSecurityFromConfig({
      neighbors: [
        { address: '10.0.0.2', password: 'a' },
        { address: '2001:db8::2', ttlSecurity: 2 },
        { address: '10.0.0.4' },
      ],
      listenRanges: [{ prefix: '10.1.0.0/16', password: 'r', ttlSecurity: 1 }],
    });
    expect(s).toEqual({
      neighbors: [{ address: '10.0.0.2', password: 'a' }, { address: '2001:db8::2', ttlSecurity: 2 }, { address: '10.0.0.4' }],
      ranges: [{ address: '10.1.0.0', prefixLength: 16, password: 'r', ttlSecurity: 1 }],
    });
    expect(needsSecurity({})).toBe(false);
    expect(needsSecurity({ ttlSecurity: 1 })).toBe(true);
    expect(needsSecurity({ password: 'x' })).toBe(true);
  });

  it('names errno values', () => {
    expect(errnoName(-1)).toBe('EPERM (-1)');
    expect(errnoName(-92)).toBe('ENOPROTOOPT (-92)');
  });
});
