// Import and export policy (Calico BGPFilter-like rules from the config):
// compiled once on load or reload, evaluated per route on the hot path.
// Import runs on routes a peer sent, before the Loc-RIB; export runs on best
// routes after the RFC 4456 §6 advertise rules and before the attribute
// rewrite (export.ts). RFC 8212 default-deny for eBGP is a config switch.
//
// Semantics decided here (documented for operators too):
// - Two lists per direction: the global rules, then the peer's (neighbor or
//   listen range). In each list the first matching rule wins. A reject in
//   either list rejects the route. An accept in the global list lets the
//   route through to the peer list, carrying its set-actions; the peer list's
//   accept applies its own after them (peer-specific settings override).
// - No rule matched in either list: accept unchanged (Calico's default).
//   With `ebgpRequiresPolicy` (RFC 8212 §3) an eBGP session whose direction
//   has no rule at all, global or its own, imports and exports nothing.
// - `peer` is the session the policy is about: the source on import, the
//   target on export (so `peerType` and prepending refer to it).
// - Prepend on export repeats our ASN on that session (peer.localAsn), only
//   toward eBGP: an iBGP peer would see its own AS and drop the route (RFC 4271
//   §9.1.2). Prepend on import repeats the neighbour AS (§9.1.2.2 c): the
//   peer's ASN for eBGP routes, the path's first AS for iBGP ones, nothing
//   when the path is empty (prepending our own AS would make a loop).
// - Reference counts: an accept with unchanged attributes returns the input
//   AttrSet itself and takes no reference; a changed set comes interned with
//   one reference the caller owns (release it when done).

import type { BgpConfig, PolicyRule } from '../../config/schema.js';
import type { PrefixKey } from '../../lib/prefix.js';
import type { AttrSet, AttrStore } from '../attr-store.js';
import type { PeerInfo } from '../route.js';
import { applySets, compileSet, type CompiledSet } from './actions.js';
import { compileMatch, matches, type CompiledMatch } from './match.js';

export type PolicyDirection = 'import' | 'export';
/** Which list a rule came from. */
export type PolicyList = 'global' | 'peer';
export type PolicyRejectReason =
  /** A rule with action reject matched. */
  | 'rule'
  /** RFC 8212 §3: eBGP session without any explicit policy in this direction. */
  | 'ebgp-without-policy';

export interface CompiledRule {
  /** Position in its list (0-based), reported in verdicts. */
  readonly index: number;
  readonly match: CompiledMatch;
  readonly accept: boolean;
  readonly set: CompiledSet | undefined;
}

/** One compiled list of rules. */
export interface RuleList {
  readonly rules: readonly CompiledRule[];
}

export const NO_RULES: RuleList = Object.freeze({ rules: Object.freeze([]) as readonly CompiledRule[] });

interface CacheEntry {
  global: CompiledRule | undefined;
  peer: CompiledRule | undefined;
  asn: number | undefined;
  out: AttrSet;
}

export interface Policy {
  readonly direction: PolicyDirection;
  readonly global: RuleList;
  readonly peer: RuleList;
  readonly ebgpRequiresPolicy: boolean;
  /** Neither list has a rule. */
  readonly empty: boolean;
  /** Input set → result of the last set-actions applied to it: repeated routes intern nothing. */
  readonly cache: WeakMap<AttrSet, CacheEntry>;
}

export interface PolicyOptions {
  readonly direction: PolicyDirection;
  /** The global rules of the same direction, evaluated first (compile them once and share). */
  readonly global?: RuleList | readonly PolicyRule[];
  /** RFC 8212 default-deny for eBGP sessions. */
  readonly ebgpRequiresPolicy?: boolean;
  /** Config path of the peer rules, for errors (e.g. "neighbors[2].import"). */
  readonly path?: string;
}

/** What evaluate needs of a route (a prefix with a Path's attributes and peer). */
export interface PolicyRoute {
  readonly prefix: PrefixKey;
  readonly attrs: AttrSet;
  readonly peer: PeerInfo;
}

export type PolicyVerdict =
  | { readonly accept: false; readonly reason: PolicyRejectReason; readonly rule?: number; readonly list?: PolicyList }
  | {
      readonly accept: true;
      readonly attrs: AttrSet;
      /** The last rule that matched, if any. */
      readonly rule?: number;
      readonly list?: PolicyList;
      /** A matched rule set MED (export: it may then go to eBGP peers, RFC 4271 §5.1.4). */
      readonly medSet: boolean;
    };

const REJECT_RFC8212: PolicyVerdict = Object.freeze({ accept: false, reason: 'ebgp-without-policy' });

/** Compiles one list of rules; throws PolicyConfigError naming `path` on text the schema should have refused. */
export function compileRules(rules: readonly PolicyRule[] | undefined, path = 'rules'): RuleList {
  if (!rules || rules.length === 0) return NO_RULES;
  const compiled = rules.map((r, index) =>
    Object.freeze({
      index,
      match: compileMatch(r.match, `${path}[${index}].match`),
      accept: r.action === 'accept',
      set: r.action === 'accept' ? compileSet(r.set, `${path}[${index}].set`) : undefined,
    }),
  );
  return Object.freeze({ rules: Object.freeze(compiled) });
}

export function compilePolicy(rules: readonly PolicyRule[] | undefined, opts: PolicyOptions): Policy {
  const global = opts.global === undefined ? NO_RULES : 'rules' in opts.global ? opts.global : compileRules(opts.global, opts.direction);
  const peer = compileRules(rules, opts.path ?? opts.direction);
  return Object.freeze({
    direction: opts.direction,
    global,
    peer,
    ebgpRequiresPolicy: opts.ebgpRequiresPolicy ?? false,
    empty: global.rules.length === 0 && peer.rules.length === 0,
    cache: new WeakMap<AttrSet, CacheEntry>(),
  });
}

/** The global rules and switches of a config, compiled once per load. */
export interface GlobalPolicies {
  readonly import: RuleList;
  readonly export: RuleList;
  readonly ebgpRequiresPolicy: boolean;
}

export function compileGlobalPolicies(config: Pick<BgpConfig, 'import' | 'export' | 'ebgpRequiresPolicy'>): GlobalPolicies {
  return Object.freeze({
    import: compileRules(config.import, 'import'),
    export: compileRules(config.export, 'export'),
    ebgpRequiresPolicy: config.ebgpRequiresPolicy ?? false,
  });
}

/** A session's import and export policies: its own rules chained after the global ones. */
export function compilePeerPolicies(
  globals: GlobalPolicies,
  peer: { readonly import?: readonly PolicyRule[]; readonly export?: readonly PolicyRule[] },
  path = 'neighbor',
): { readonly import: Policy; readonly export: Policy } {
  const common = { ebgpRequiresPolicy: globals.ebgpRequiresPolicy };
  return {
    import: compilePolicy(peer.import, { ...common, direction: 'import', global: globals.import, path: `${path}.import` }),
    export: compilePolicy(peer.export, { ...common, direction: 'export', global: globals.export, path: `${path}.export` }),
  };
}

function isEbgp(peer: PeerInfo): boolean {
  return !peer.ibgp && !peer.local;
}

function firstMatch(list: RuleList, prefix: PrefixKey, attrs: AttrSet, peer: PeerInfo): CompiledRule | undefined {
  const rules = list.rules;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (matches(r.match, prefix, attrs, peer)) return r;
  }
  return undefined;
}

/** The ASN a prepend action repeats on this session, or undefined when prepending does not apply (file comment). */
function prependAsn(direction: PolicyDirection, peer: PeerInfo, set: AttrSet): number | undefined {
  if (peer.local) return undefined;
  if (direction === 'export') return peer.ibgp ? undefined : peer.localAsn; // RFC 4271 §5.1.2 a
  return peer.ibgp ? set.neighbourAs : peer.asn; // RFC 4271 §9.1.2.2 c
}

/** Runs the set-actions of the matched rules, through the policy's cache. */
function applyActions(policy: Policy, g: CompiledRule | undefined, p: CompiledRule | undefined, input: AttrSet, peer: PeerInfo, store: AttrStore): AttrSet {
  const asn = prependAsn(policy.direction, peer, input);
  const hit = policy.cache.get(input);
  if (hit !== undefined && hit.global === g && hit.peer === p && hit.asn === asn) {
    if (hit.out === input) return input;
    if (store.has(hit.out)) {
      store.retain(hit.out);
      return hit.out;
    }
  }
  const sets: CompiledSet[] = [];
  if (g?.set) sets.push(g.set);
  if (p?.set) sets.push(p.set);
  const changed = applySets(sets, input.attrs, asn);
  const out = changed === undefined ? input : store.intern(changed);
  if (hit !== undefined) {
    hit.global = g;
    hit.peer = p;
    hit.asn = asn;
    hit.out = out;
  } else policy.cache.set(input, { global: g, peer: p, asn, out });
  return out;
}

/**
 * Evaluates a route against a policy: reject, or accept with the (possibly
 * new) attribute set. See the file comment for chaining and references.
 */
export function evaluate(policy: Policy, route: PolicyRoute, store: AttrStore): PolicyVerdict {
  return evaluatePath(policy, route.prefix, route.attrs, route.peer, store);
}

/** evaluate() with the route in pieces, for callers holding a shared Path and a bare prefix key. */
export function evaluatePath(policy: Policy, prefix: PrefixKey, attrs: AttrSet, peer: PeerInfo, store: AttrStore): PolicyVerdict {
  if (policy.empty) {
    // RFC 8212 §3: no explicit policy → no routes to or from an eBGP peer.
    if (policy.ebgpRequiresPolicy && isEbgp(peer)) return REJECT_RFC8212;
    return { accept: true, attrs, medSet: false };
  }
  const g = firstMatch(policy.global, prefix, attrs, peer);
  if (g !== undefined && !g.accept) return { accept: false, reason: 'rule', rule: g.index, list: 'global' };
  const p = firstMatch(policy.peer, prefix, attrs, peer);
  if (p !== undefined && !p.accept) return { accept: false, reason: 'rule', rule: p.index, list: 'peer' };
  const last = p ?? g;
  if (last === undefined) return { accept: true, attrs, medSet: false };
  const list: PolicyList = p !== undefined ? 'peer' : 'global';
  if (g?.set === undefined && p?.set === undefined) return { accept: true, attrs, rule: last.index, list, medSet: false };
  const out = applyActions(policy, g, p, attrs, peer, store);
  const medSet = g?.set?.med !== undefined || p?.set?.med !== undefined;
  return { accept: true, attrs: out, rule: last.index, list, medSet };
}
