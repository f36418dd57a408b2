// The bfd_* Prometheus series, pulled from ApiDeps.bfd() at scrape time like
// every other series (metrics.ts): per session its RFC 5880 state, Up -> Down
// flaps, changes to Down by diagnostic (RFC 5880 §4.1 Diag names) and the
// detection time (§6.8.4); and received datagrams dropped by reason.
//
// The per-session families are written as peer-metrics.ts writes the
// per-peer ones: with prom-client's labelled Gauge and Counter a scrape at a
// thousand BFD sessions set some 5,000 children (a sorted-key hash each) and
// formatted them all in one loop turn (issue 9). Here each family renders its
// lines from the scrape's session list in slices of the loop-turn budget
// (lib/loop-turns.ts), the `peer="..."` label text built once per scrape;
// BgpRegistry writes them as they are, the JSON form carries the same samples.

import { Counter, type Registry } from 'prom-client';
import type { ApiBfdList, ApiBfdSession } from './bfd-schemas.js';
import type { ApiDeps } from './deps.js';
import { BgpRegistry, escapeLabelValue, familyText, PeerFamily, valueText } from './peer-metrics.js';

const STATE_VALUE: Record<string, number> = { AdminDown: 0, Down: 1, Init: 2, Up: 3 };


interface BfdSample {
  /** `,diagnostic="..."` or ''. */
  readonly extra: string;
  readonly extraLabels?: Readonly<Record<string, string>>;
  readonly value: number;
}

interface BfdFamilySpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: (s: ApiBfdSession, out: BfdSample[]) => void;
}

/** One scrape's sessions and each one's `peer="..."` text. */
interface BfdSnapshot {
  readonly sessions: readonly ApiBfdSession[];
  readonly labelText: readonly string[];
}

const NO_PEERS = async () => ({ peers: [], labelText: [] });

/**
 * A per-session family. A PeerFamily to BgpRegistry (so its text is written
 * as is); its own samples come from the BFD sessions, not the peers.
 */
class BfdFamily extends PeerFamily {
  constructor(
    private readonly bfd: BfdFamilySpec,
    private readonly sessions: () => Promise<BfdSnapshot>,
  ) {
    super({ name: bfd.name, help: bfd.help, type: bfd.type, samples: () => undefined }, NO_PEERS);
  }

  override async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string>; value: number }[] }> {
    const { sessions } = await this.sessions();
    const values: { labels: Record<string, string>; value: number }[] = [];
    const out: BfdSample[] = [];
    for (const s of sessions) {
      out.length = 0;
      this.bfd.samples(s, out);
      for (const x of out) values.push({ labels: { peer: s.peer, ...x.extraLabels }, value: x.value });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  override async text(): Promise<string> {
    const { sessions, labelText } = await this.sessions();
    const samples: BfdSample[] = [];
    return familyText(this, sessions, labelText, (s, head, out) => {
      samples.length = 0;
      this.bfd.samples(s, samples);
      for (const x of samples) out.push(`${head}${x.extra}} ${valueText(x.value)}`);
    });
  }
}

/** `,diagnostic="..."` per diagnostic name, kept: the names are RFC 5880's few. */
const diagnosticText = new Map<string, { text: string; labels: Readonly<Record<string, string>> }>();
function diagnostic(name: string): { text: string; labels: Readonly<Record<string, string>> } {
  let d = diagnosticText.get(name);
  if (!d) {
    d = { text: `,diagnostic="${escapeLabelValue(name)}"`, labels: Object.freeze({ diagnostic: name }) };
    if (diagnosticText.size < 64) diagnosticText.set(name, d);
  }
  return d;
}

const SESSION_FAMILIES: readonly BfdFamilySpec[] = [
  {
    name: 'bfd_session_state',
    help: 'RFC 5880 session state: 0 AdminDown, 1 Down, 2 Init, 3 Up',
    type: 'gauge',
    samples: (s, out) => void out.push({ extra: '', value: STATE_VALUE[s.state] ?? 1 }),
  },
  {
    name: 'bfd_session_detection_time_seconds',
    help: 'Negotiated detection time (RFC 5880 §6.8.4); 0 before the peer was heard',
    type: 'gauge',
    samples: (s, out) => void out.push({ extra: '', value: s.detectionTimeMs / 1000 }),
  },
  {
    name: 'bfd_session_flaps_total',
    help: 'Up -> Down transitions',
    type: 'counter',
    samples: (s, out) => void out.push({ extra: '', value: s.flaps }),
  },
  {
    name: 'bfd_session_down_total',
    help: 'Changes to Down, by RFC 5880 diagnostic',
    type: 'counter',
    samples: (s, out) => {
      for (const [name, n] of Object.entries(s.downsByDiagnostic)) {
        const d = diagnostic(name);
        out.push({ extra: d.text, extraLabels: d.labels, value: n });
      }
    },
  },
];

export function registerBfdMetrics(registry: Registry, deps: ApiDeps): void {
  const registers = [registry];
  // One snapshot serves every series of a scrape (cached 250 ms).
  let cached: { at: number; list: Promise<ApiBfdList | undefined>; snapshot: Promise<BfdSnapshot> } | undefined;
  const current = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 250) {
      const list = Promise.resolve(deps.bfd?.());
      // prom-client sorts nothing: sessions appear in the order deps.bfd() lists them.
      const snapshot = list.then((l) => {
        const sessions = l?.sessions ?? [];
        return { sessions, labelText: sessions.map((s) => `peer="${escapeLabelValue(s.peer)}"`) };
      });
      cached = { at: now, list, snapshot };
    }
    return cached;
  };
  for (const spec of SESSION_FAMILIES) {
    const family = new BfdFamily(spec, () => current().snapshot);
    if (registry instanceof BgpRegistry) registry.registerPeerFamily(family);
    else registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
  }
  new Counter({
    name: 'bfd_packets_dropped_total',
    help: 'Received BFD datagrams dropped, by reason (RFC 5880 §6.8.6, RFC 5881 §5)',
    labelNames: ['reason'],
    registers,
    async collect() {
      this.reset();
      for (const [reason, n] of Object.entries((await current().list)?.dropped ?? {})) if (n) this.inc({ reason }, n);
    },
  });
}
