// Route reflection, RFC 4456, as small pure functions: the §6 advertise table
// (which peers a best route may go to, by where it came from), the §8
// attribute rewrite a reflector applies (ORIGINATOR_ID, CLUSTER_LIST), and the
// §8 loop checks the eligibility pass runs on received routes. Plain iBGP full
// mesh rules (RFC 4271 §9.2) are the same table with reflection turned off.

import type { PathAttributes } from '../bgp/wire/types.js';

/** Where a route came from. eBGP-learned = neither `ibgp` nor `local`. */
export interface RouteSource {
  readonly ibgp: boolean;
  readonly rrClient: boolean;
  /** Originated by this speaker. */
  readonly local: boolean;
}

/** The peer we might advertise to. */
export interface ReflectTarget {
  readonly ibgp: boolean;
  readonly rrClient: boolean;
}

export interface ReflectOptions {
  /** We are a route reflector (a cluster ID is configured). */
  readonly isReflector: boolean;
  /** RFC 4456 §5: reflect client routes to other clients (off when clients are fully meshed). */
  readonly clientToClient: boolean;
}

/**
 * RFC 4456 §6 (and RFC 4271 §9.2 without reflection): may a route from
 * `source` be advertised to `target`? Not sending a route back to the peer it
 * came from is the export layer's job (RFC 4456 §8 loop checks cover it too).
 */
export function shouldAdvertise(source: RouteSource, target: ReflectTarget, opts: ReflectOptions): boolean {
  // Locally originated and eBGP-learned routes go to every peer (RFC 4456 §6 "from an EBGP peer").
  if (source.local || !source.ibgp) return true;
  // An iBGP-learned route always goes to eBGP peers (RFC 4271 §9.2).
  if (!target.ibgp) return true;
  // RFC 4271 §9.2: without reflection, iBGP-learned routes are never sent to iBGP peers.
  if (!opts.isReflector) return false;
  if (source.rrClient) {
    // RFC 4456 §6 "from a client peer": reflect to all non-clients and to clients
    // (RFC 4456 §5: unless client-to-client reflection is disabled).
    return target.rrClient ? opts.clientToClient : true;
  }
  // RFC 4456 §6 "from a non-client peer": reflect to clients only.
  return target.rrClient;
}

/** True when advertising from `source` to `target` is a reflection, so the §8 rewrite applies. */
export function isReflection(source: RouteSource, target: ReflectTarget): boolean {
  return !source.local && source.ibgp && target.ibgp;
}

/**
 * RFC 4456 §8 rewrite on reflection: ORIGINATOR_ID is set to the BGP Identifier
 * of the peer the route came from unless already present; our CLUSTER_ID is
 * prepended to CLUSTER_LIST (created when absent).
 */
export function reflectAttributes(attrs: PathAttributes, sourceBgpId: number, clusterId: number): PathAttributes {
  return {
    ...attrs,
    originatorId: attrs.originatorId ?? sourceBgpId >>> 0,
    clusterList: [clusterId >>> 0, ...(attrs.clusterList ?? [])],
  };
}

export type ReflectionLoop = 'originator-id-is-self' | 'cluster-loop';

/**
 * RFC 4456 §8 loop detection on a received route: our own router ID as
 * ORIGINATOR_ID, or (when we reflect, `clusterId` set) our CLUSTER_ID already in
 * CLUSTER_LIST. Returns the reason, or undefined when there is no loop.
 */
export function reflectionLoop(
  attrs: PathAttributes,
  routerId: number,
  clusterId: number | undefined,
): ReflectionLoop | undefined {
  if (attrs.originatorId !== undefined && attrs.originatorId >>> 0 === routerId >>> 0) return 'originator-id-is-self';
  if (clusterId !== undefined && attrs.clusterList) {
    const id = clusterId >>> 0;
    for (const c of attrs.clusterList) if (c >>> 0 === id) return 'cluster-loop';
  }
  return undefined;
}
