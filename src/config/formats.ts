// String formats the configuration schema names ('ipv4', 'ip', 'prefix'),
// registered with TypeBox's FormatRegistry so `Value.Check`/`Value.Errors`
// understand them. The parsers are the shared ones in src/lib/prefix.ts, so the
// config accepts exactly what the codec, the RIB and the API accept.
// Address text follows RFC 4291 §2.2 / RFC 5952; prefixes must have their host
// bits clear (RFC 4632 §3.1 notation), so "10.244.1.1/26" is rejected.

import { FormatRegistry } from '@sinclair/typebox';
import {
  prefixParse,
  prefixToString,
  v4KeyParse,
  v4Parse,
  v6KeyParse,
  v6Parse,
  type PrefixKey,
} from '../lib/prefix.js';

/** Dotted-quad IPv4 address text (no leading '+', no prefix length). */
export function isIpv4(text: string): boolean {
  return v4Parse(text) !== undefined;
}

/** IPv4 or IPv6 address text. */
export function isIp(text: string): boolean {
  return text.includes(':') ? v6Parse(text) !== undefined : v4Parse(text) !== undefined;
}

/** IPv4 or IPv6 prefix with host bits clear. */
export function isPrefix(text: string): boolean {
  return prefixParse(text) !== undefined;
}

export { canonicalIp } from '../lib/address.js';

/**
 * The prefix the user probably meant when the host bits are set
 * ("10.244.1.1/26" -> "10.244.1.0/26"); undefined when the text is no prefix at all.
 */
export function maskedPrefix(text: string): string | undefined {
  const key: PrefixKey | undefined = text.includes(':') ? v6KeyParse(text, true) : v4KeyParse(text, true);
  return key === undefined ? undefined : prefixToString(key);
}

/** The formats by name, for validators other than TypeBox's (e.g. ajv's addFormat in the API). */
export const configFormats: Readonly<Record<'ipv4' | 'ip' | 'prefix', (text: string) => boolean>> = {
  ipv4: isIpv4,
  ip: isIp,
  prefix: isPrefix,
};

let registered = false;

/** Registers the config formats with TypeBox; idempotent. */
export function registerConfigFormats(): void {
  if (registered) return;
  for (const [name, check] of Object.entries(configFormats)) FormatRegistry.Set(name, check);
  registered = true;
}

registerConfigFormats();
