// Picks the launcher for a peer kind, giving each router its own directory
// inside the topology's temp dir.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BirdPeer } from './bird.js';
import { FrrPeer } from './frr.js';
import { GobgpPeer } from './gobgp.js';
import type { Topology } from './netns.js';
import type { PeerKind, PeerRouter, PeerSpec } from './peer.js';

let instance = 0;

/** A (not yet started) router of `kind` on topology node `node`. */
export function createPeer(kind: PeerKind, topo: Topology, node: string, spec: PeerSpec): PeerRouter {
  const dir = join(topo.dir, `${kind}-${node}-${++instance}`);
  mkdirSync(dir, { recursive: true });
  const ns = topo.node(node).ns;
  switch (kind) {
    case 'bird':
      return new BirdPeer(spec, ns, dir);
    case 'frr':
      return new FrrPeer(spec, ns, dir);
    case 'gobgp':
      return new GobgpPeer(spec, ns, dir);
  }
}
