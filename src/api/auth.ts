// Who may change routing state through the API. DESIGN.md: the API binds to
// 127.0.0.1 by default and then needs no token; bound to anything beyond
// loopback, every write (any method but GET/HEAD/OPTIONS) needs
// `Authorization: Bearer <api.token>`, compared in constant time. Reads stay
// open: they expose no secret (the config endpoint masks password and token).
// Beyond loopback without a configured token, writes are refused outright.

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `api.listen`: "host:port", "[v6]:port", or "none" (undefined). Throws on malformed text. */
export function parseListen(text: string): ListenAddress | undefined {
  if (text === 'none') return undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new Error(`api.listen: expected host:port, [v6]:port or none, got "${text}"`);
  return { host: m[1]!, port };
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x.x.x and "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

export type AuthVerdict = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Decides write access for one request. */
export interface WriteGuard {
  readonly required: boolean;
  check(authorization: string | undefined): AuthVerdict;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Builds the guard for a bind address. Tokens are compared as SHA-256 digests
 * with crypto.timingSafeEqual, so neither content nor length leaks through timing.
 */
export function writeGuard(host: string | undefined, token: string | undefined): WriteGuard {
  const required = host !== undefined && !isLoopback(host);
  if (!required) return { required, check: () => ({ ok: true }) };
  const expected = token === undefined ? undefined : digest(token);
  return {
    required,
    check(authorization) {
      if (expected === undefined) return { ok: false, message: 'writes are disabled: the API is bound beyond loopback and no api.token is configured' };
      const m = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) return { ok: false, message: 'missing "Authorization: Bearer <token>" header' };
      if (!timingSafeEqual(digest(m[1]!), expected)) return { ok: false, message: 'invalid token' };
      return { ok: true };
    },
  };
}
