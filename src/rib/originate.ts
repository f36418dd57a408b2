// Local origination: the prefixes this node announces itself (its pod CIDR
// blocks, service ranges and service IPs), from the config's `originate` list
// and at run time through the API (announce / withdraw / list). Each becomes
// a path from the local pseudo-peer (route.ts localPeer) with ORIGIN IGP
// (RFC 4271 §5.1.1), an empty AS_PATH (§5.1.2: the path is built on the way
// out) and per-prefix communities (Calico prefixAdvertisements: RFC 1997
// "aa:nn" and RFC 8092 "aa:nn:mm"), interned through the AttrStore.
//
// Next hop "self": an originated path carries no NEXT_HOP and no MP_REACH
// next hop; `peer.local` tells the export step (export.ts rewriteAttributes)
// to put our own session address there for every peer (RFC 4271 §5.1.3).
//
// Ownership: config entries belong to the config (reconcileConfig adds,
// changes and removes them); the API may add and remove only its own, and a
// reload leaves those alone. This module holds one reference per entry's
// AttrSet and releases it when the entry goes or changes; the Loc-RIB takes
// its own.
//
// FIB hints: `blackhole` is true for blocks and false for /32 and /128 (Calico
// installs a blackhole route for each IPAM block it owns, not for single
// addresses); `kind` is 'service' when the prefix lies inside one of the
// configured service CIDRs, else 'pod-block'.

import { ORIGIN_IGP, type PathAttributes } from '../bgp/wire/types.js';
import type { OriginateConfig } from '../config/schema.js';
import { prefixLength, prefixToString, v4KeyParse, v6KeyParse, type PrefixKey } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import { parseCommunityList, type CommunityLists } from './policy/communities.js';
import { compilePrefixRange, v4InRange, v6InRange, type PrefixRange } from './policy/match.js';
import { Path, type PeerInfo } from './route.js';

export type OriginSource = 'config' | 'api';
export type OriginKind = 'pod-block' | 'service';

/** One prefix this speaker originates. */
export interface OriginatedPrefix {
  readonly prefix: PrefixKey;
  /** Canonical text, e.g. "10.244.1.0/26". */
  readonly text: string;
  /** The communities as given (canonical order: standard then large, duplicates dropped). */
  readonly communities: readonly string[];
  readonly source: OriginSource;
  readonly kind: OriginKind;
  /** The FIB installs a blackhole route for it (blocks yes, /32 and /128 no). */
  readonly blackhole: boolean;
  /** The path the RIB carries: local pseudo-peer, interned attributes, path ID 0. */
  readonly path: Path;
}

export type OriginError = 'invalid-prefix' | 'invalid-community' | 'configured' | 'not-announced';

export type AnnounceResult =
  | { readonly ok: true; readonly change: 'added' | 'changed' | 'unchanged'; readonly entry: OriginatedPrefix; readonly previous?: OriginatedPrefix }
  | { readonly ok: false; readonly error: OriginError; readonly message: string };

export type WithdrawResult =
  | { readonly ok: true; readonly entry: OriginatedPrefix }
  | { readonly ok: false; readonly error: OriginError; readonly message: string };

/** What a reload asks of the RIB: paths to add or replace, and prefixes to withdraw. */
export interface OriginationChanges {
  /** New and changed entries (a changed one replaces the old path: same peer, same path ID). */
  readonly announce: readonly OriginatedPrefix[];
  readonly withdraw: readonly OriginatedPrefix[];
  /** Config entries that could not be parsed (the schema should have refused them). */
  readonly errors: readonly { readonly index: number; readonly error: OriginError; readonly message: string }[];
}

export interface OriginationOptions {
  /** Prefixes counted as service routes (config `serviceCidrs`). */
  readonly serviceCidrs?: readonly string[];
}

/** Parses prefix text; host bits set are refused: an announcement names a network. */
export function parseOriginPrefix(text: string): PrefixKey | undefined {
  return text.includes(':') ? v6KeyParse(text) : v4KeyParse(text);
}

function communityTexts(lists: CommunityLists): string[] {
  const out: string[] = [];
  for (const c of lists.standard) out.push(`${c >>> 16}:${c & 0xffff}`);
  for (const c of lists.large) out.push(`${c.global}:${c.local1}:${c.local2}`);
  return out;
}

/** The attributes of an originated path (RFC 4271 §5.1.1, §5.1.2; next hop left to export). */
export function originAttributes(lists: CommunityLists): PathAttributes {
  return {
    origin: ORIGIN_IGP,
    asPath: [],
    ...(lists.standard.length > 0 ? { communities: lists.standard } : {}),
    ...(lists.large.length > 0 ? { largeCommunities: lists.large } : {}),
  };
}

type Parsed = { ok: true; prefix: PrefixKey; lists: CommunityLists } | { ok: false; error: OriginError; message: string };

function parse(prefixText: string, communities: readonly string[] | undefined): Parsed {
  const prefix = parseOriginPrefix(prefixText);
  if (prefix === undefined) return { ok: false, error: 'invalid-prefix', message: `not a prefix (or host bits set): ${JSON.stringify(prefixText)}` };
  const lists = parseCommunityList(communities);
  if (!lists.ok) return { ok: false, error: 'invalid-community', message: `not a community: ${JSON.stringify(lists.text)}` };
  return { ok: true, prefix, lists: lists.lists };
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** The prefixes this speaker originates, with their paths. */
export class LocalOrigination {
  private readonly entries = new Map<PrefixKey, OriginatedPrefix>();
  private services: PrefixRange[] = [];

  constructor(
    private readonly store: AttrStore,
    /** The local pseudo-peer (route.ts localPeer); one object shared with the RIB. */
    readonly peer: PeerInfo,
    options: OriginationOptions = {},
  ) {
    this.setServiceCidrs(options.serviceCidrs ?? []);
  }

  /** API: originate `prefix` with `communities`, or change its communities. Config entries are not the API's to change. */
  announce(prefixText: string, communities?: readonly string[]): AnnounceResult {
    const parsed = parse(prefixText, communities);
    if (!parsed.ok) return parsed;
    const current = this.entries.get(parsed.prefix);
    if (current?.source === 'config')
      return { ok: false, error: 'configured', message: `${current.text} is originated by the config; change it there` };
    return this.put(parsed.prefix, parsed.lists, 'api');
  }

  /** API: stop originating a prefix the API announced. */
  withdraw(prefixText: string): WithdrawResult {
    const prefix = parseOriginPrefix(prefixText);
    if (prefix === undefined) return { ok: false, error: 'invalid-prefix', message: `not a prefix (or host bits set): ${JSON.stringify(prefixText)}` };
    const current = this.entries.get(prefix);
    if (!current) return { ok: false, error: 'not-announced', message: `${prefixToString(prefix)} is not originated here` };
    if (current.source === 'config')
      return { ok: false, error: 'configured', message: `${current.text} is originated by the config; remove it there` };
    this.remove(current);
    return { ok: true, entry: current };
  }

  get(prefix: PrefixKey): OriginatedPrefix | undefined {
    return this.entries.get(prefix);
  }

  /** Every originated prefix: IPv4 first in numeric order, then IPv6 by key. */
  list(): OriginatedPrefix[] {
    return [...this.entries.values()].sort((a, b) => {
      if (typeof a.prefix === 'number') return typeof b.prefix === 'number' ? a.prefix - b.prefix : -1;
      if (typeof b.prefix === 'number') return 1;
      return a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0;
    });
  }

  size(): number {
    return this.entries.size;
  }

  /**
   * Reload: makes the config-owned entries equal `originate`. API entries stay
   * unless the config now names the same prefix, which takes it over.
   */
  reconcileConfig(originate: readonly OriginateConfig[]): OriginationChanges {
    const announce: OriginatedPrefix[] = [];
    const withdraw: OriginatedPrefix[] = [];
    const errors: { index: number; error: OriginError; message: string }[] = [];
    const wanted = new Set<PrefixKey>();
    originate.forEach((o, index) => {
      const parsed = parse(o.prefix, o.communities);
      if (!parsed.ok) {
        errors.push({ index, error: parsed.error, message: parsed.message });
        return;
      }
      if (wanted.has(parsed.prefix)) return; // a duplicate: the first one counts (config checks flag it)
      wanted.add(parsed.prefix);
      const r = this.put(parsed.prefix, parsed.lists, 'config');
      if (r.ok && r.change !== 'unchanged') announce.push(r.entry);
    });
    for (const entry of [...this.entries.values()])
      if (entry.source === 'config' && !wanted.has(entry.prefix)) {
        this.remove(entry);
        withdraw.push(entry);
      }
    return { announce, withdraw, errors };
  }

  /** Reload of `serviceCidrs`: re-classifies entries; returns those whose kind changed (their paths do not). */
  setServiceCidrs(cidrs: readonly string[]): OriginatedPrefix[] {
    const ranges: PrefixRange[] = [];
    for (const text of cidrs) {
      try {
        ranges.push(compilePrefixRange(text, undefined, undefined, 'serviceCidrs'));
      } catch {
        // Validated by the config schema; an unparsable one classifies nothing.
      }
    }
    this.services = ranges;
    const changed: OriginatedPrefix[] = [];
    for (const entry of this.entries.values()) {
      const kind = this.kindOf(entry.prefix);
      if (kind !== entry.kind) {
        const next = Object.freeze({ ...entry, kind });
        this.entries.set(entry.prefix, next);
        changed.push(next);
      }
    }
    return changed;
  }

  /** Drops every entry (shutdown); returns them so the RIB can withdraw. */
  clear(): OriginatedPrefix[] {
    const all = [...this.entries.values()];
    for (const e of all) this.remove(e);
    return all;
  }

  private kindOf(prefix: PrefixKey): OriginKind {
    for (const r of this.services)
      if (typeof prefix === 'number' ? r.v4 && v4InRange(r, prefix) : !r.v4 && v6InRange(r, prefix)) return 'service';
    return 'pod-block';
  }

  private put(prefix: PrefixKey, lists: CommunityLists, source: OriginSource): AnnounceResult {
    const current = this.entries.get(prefix);
    const communities = communityTexts(lists);
    if (current && sameTexts(current.communities, communities)) {
      if (current.source === source) return { ok: true, change: 'unchanged', entry: current };
      // The config takes over an API announcement with the same attributes: the path stays.
      const entry = Object.freeze({ ...current, source });
      this.entries.set(prefix, entry);
      return { ok: true, change: 'unchanged', entry };
    }
    const attrs: AttrSet = this.store.intern(originAttributes(lists));
    const entry: OriginatedPrefix = Object.freeze({
      prefix,
      text: prefixToString(prefix),
      communities: Object.freeze(communities),
      source,
      kind: this.kindOf(prefix),
      // Calico: a blackhole route for each owned block, not for single addresses.
      blackhole: prefixLength(prefix) < (typeof prefix === 'number' ? 32 : 128),
      path: new Path(this.peer, attrs, 0),
    });
    this.entries.set(prefix, entry);
    if (current) {
      this.store.release(current.path.attrs);
      return { ok: true, change: 'changed', entry, previous: current };
    }
    return { ok: true, change: 'added', entry };
  }

  private remove(entry: OriginatedPrefix): void {
    this.entries.delete(entry.prefix);
    this.store.release(entry.path.attrs);
  }
}
