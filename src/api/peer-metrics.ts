// The per-peer Prometheus series (bgp_peer_*, bgp_messages_*,
// bgp_notifications_*, bgp_prefixes_*) in the text exposition format
// (version 0.0.4), written for a thousand peers and more. With prom-client's
// own Gauge and Counter a scrape at 1,000 peers set 20,000 labelled children
// (a sorted-key hash each), then formatted and escaped every label of every
// series, all in one turn of the event loop: 80-260 ms of stall and 15-25 MB
// of garbage per scrape (issue 9). Here a family is a metric object of the
// daemon's Registry whose samples are pulled from the peers' snapshot when
// scraped: the peer's label text (peer, peer_asn, description) is rendered
// once and kept while the peer's ASN and description stay the same, the
// lines are built in slices of the one loop-turn budget (lib/loop-turns.ts),
// and BgpRegistry writes them as they are. The JSON form (get(), for
// getMetricsAsJSON) carries the same samples with their labels as objects.

import { Registry } from 'prom-client';
import { loopTurns } from '../lib/loop-turns.js';
import type { ApiPeer } from './deps.js';

/** Labels beside the peer's own (type, family, code/subcode), in the order they are written. */
export type ExtraLabels = Readonly<Record<string, string>>;

export interface PeerSample {
  readonly extra?: ExtraLabels;
  readonly value: number;
}

export interface PeerFamilySpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  /** Every sample one peer contributes, in order. */
  readonly samples: (p: ApiPeer, out: PeerSample[]) => void;
}

/** One scrape's view of the peers: the list and each one's label text. */
export interface PeerSnapshot {
  readonly peers: readonly ApiPeer[];
  /** `peer="..",peer_asn="..",description=".."` of peers[i]. */
  readonly labelText: readonly string[];
}

/** Time one family's rendering may take per loop turn, ms. */
const SLICE_MS = 4;
/** Peers rendered between clock checks. */
const STEP = 32;

/** Prometheus text format: backslash and newline escaped in HELP; double quote too in label values. */
export const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
export const escapeLabelValue = (s: string): string => escapeHelp(s).replace(/"/g, '\\"');

/** As prom-client writes a sample value. */
export function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

export const peerLabelsOf = (p: ApiPeer): Record<'peer' | 'peer_asn' | 'description', string> => ({
  peer: p.address,
  peer_asn: String(p.asn),
  description: p.description ?? '',
});

/**
 * The label text of each peer, kept between scrapes while its ASN and
 * description are unchanged; peers gone since the last call drop out.
 */
export class PeerLabelCache {
  private byAddress = new Map<string, { readonly asn: number; readonly description: string | undefined; readonly text: string }>();

  snapshot(peers: readonly ApiPeer[]): PeerSnapshot {
    const next = new Map<string, { readonly asn: number; readonly description: string | undefined; readonly text: string }>();
    const labelText: string[] = new Array(peers.length);
    for (let i = 0; i < peers.length; i++) {
      const p = peers[i]!;
      let e = this.byAddress.get(p.address);
      if (!e || e.asn !== p.asn || e.description !== p.description) {
        const l = peerLabelsOf(p);
        e = { asn: p.asn, description: p.description, text: `peer="${escapeLabelValue(l.peer)}",peer_asn="${l.peer_asn}",description="${escapeLabelValue(l.description)}"` };
      }
      next.set(p.address, e);
      labelText[i] = e.text;
    }
    this.byAddress = next;
    return { peers, labelText };
  }
}

/** Extra labels' text (`,type="update"`), cached per frozen label object. */
const extraTextCache = new WeakMap<ExtraLabels, string>();
/**
 * One family in the text format, as prom-client writes it (HELP, TYPE, one line
 * per sample; no final newline), built in loop-turn slices over `items`:
 * `labelText[i]` is item i's cached label text, `lines(item, head, out)` pushes
 * its sample lines, each starting with `head` (`name{labels`).
 */
export async function familyText<T>(
  family: { readonly name: string; readonly help: string; readonly type: string },
  items: readonly T[],
  labelText: readonly string[],
  lines: (item: T, head: string, out: string[]) => void,
): Promise<string> {
  const out = [`# HELP ${escapeHelp(family.name)} ${escapeHelp(family.help)}`, `# TYPE ${escapeHelp(family.name)} ${family.type}`];
  let i = 0;
  const step = (deadline: number): boolean => {
    for (; i < items.length; i++) {
      if (i % STEP === 0 && i > 0 && performance.now() >= deadline) return false;
      lines(items[i]!, `${family.name}{${labelText[i]!}`, out);
    }
    return true;
  };
  if (items.length > STEP) await loopTurns.sliced(step, SLICE_MS);
  else step(Infinity);
  return out.join('\n');
}

function extraText(extra: ExtraLabels | undefined): string {
  if (!extra) return '';
  let t = extraTextCache.get(extra);
  if (t === undefined) {
    t = '';
    for (const [k, v] of Object.entries(extra)) t += `,${k}="${escapeLabelValue(v)}"`;
    extraTextCache.set(extra, t);
  }
  return t;
}

/** A per-peer family as a metric object of a Registry (what prom-client's registry calls on it). */
export class PeerFamily {
  readonly aggregator = 'sum';
  readonly labelNames: readonly string[] = [];

  constructor(
    readonly spec: PeerFamilySpec,
    private readonly snapshot: () => Promise<PeerSnapshot>,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get help(): string {
    return this.spec.help;
  }

  get type(): 'gauge' | 'counter' {
    return this.spec.type;
  }

  /** The samples with labels as objects (Registry.getMetricsAsJSON). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string>; value: number }[] }> {
    const { peers } = await this.snapshot();
    const values: { labels: Record<string, string>; value: number }[] = [];
    const out: PeerSample[] = [];
    for (const p of peers) {
      out.length = 0;
      this.spec.samples(p, out);
      for (const s of out) values.push({ labels: { ...peerLabelsOf(p), ...s.extra }, value: s.value });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The family in the text format, as prom-client writes one (HELP, TYPE, one line per sample; no final newline), built in loop-turn slices. */
  async text(): Promise<string> {
    const { peers, labelText } = await this.snapshot();
    const samples: PeerSample[] = [];
    return familyText(this, peers, labelText, (p, head, out) => {
      samples.length = 0;
      this.spec.samples(p, samples);
      for (const s of samples) out.push(`${head}${extraText(s.extra)}} ${valueText(s.value)}`);
    });
  }

  /** Nothing is kept between scrapes. */
  reset(): void {}
}

/** prom-client's own writer of one metric (Registry.getMetricsAsString, which its typings leave out). */
const promClientText = (Registry.prototype as unknown as { getMetricsAsString(this: Registry, metric: unknown): Promise<string> }).getMetricsAsString;

/**
 * The daemon's Registry: per-peer families write their own text; everything
 * else as prom-client does. Registry.metrics() and getSingleMetricAsString()
 * both write each metric through getMetricsAsString.
 */
export class BgpRegistry extends Registry {
  getMetricsAsString(metric: unknown): Promise<string> {
    if (metric instanceof PeerFamily) return metric.text();
    return promClientText.call(this, metric);
  }

  /** Adds a per-peer family. */
  registerPeerFamily(f: PeerFamily): void {
    this.registerMetric(f as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}
