// deploy/: the Grafana dashboard and the Prometheus alert rules query only
// metrics that src/api/metrics.ts (or prom-client's default set) defines, and
// the systemd unit carries the contract's directives.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics, METRIC_NAMES } from '../../src/api/metrics.js';
import { fakeDeps } from './fake-deps.js';

const deploy = join(import.meta.dirname, '..', '..', 'deploy');
const metrics = createMetrics(fakeDeps().deps);
afterAll(() => metrics.close());

/** Every series name the registry exposes, histograms with their _bucket/_sum/_count. */
async function exposedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression reads: identifiers that are not functions, keywords, labels or template variables. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping label lists
    .replace(/\$\{?\w+\}?/g, ''); // Grafana variables
  const out: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    if (m[1]) continue; // a function call
    if (!KEYWORDS.has(m[0].toLowerCase())) out.push(m[0]);
  }
  return out;
}

interface Panel {
  title?: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

function dashboardQueries(): { panel: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(join(deploy, 'grafana', 'bgp-ts.json'), 'utf8')) as {
    panels: Panel[];
    templating: { list: { query?: string | { query: string } }[] };
  };
  const out: { panel: string; expr: string }[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) out.push({ panel: p.title ?? p.type, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating.list) {
    const q = typeof v.query === 'object' ? v.query.query : v.query;
    const lv = q && /label_values\((\w+)/.exec(q);
    if (lv) out.push({ panel: 'templating', expr: lv[1]! });
  }
  return out;
}

describe('metric name extraction', () => {
  it('finds metrics, skips functions, labels, keywords and variables', () => {
    expect(metricNamesIn('sum by (peer, le) (rate(fib_x_bucket{instance=~"$instance",type="a b"}[$__rate_interval])) / on(job) bgp_y offset 5m')).toEqual(['fib_x_bucket', 'bgp_y']);
    expect(metricNamesIn('histogram_quantile(0.99, foo) or vector(0)')).toEqual(['foo']);
  });
});

describe('deploy/grafana/bgp-ts.json', () => {
  it('every panel queries only metrics the daemon exposes', async () => {
    const known = await exposedNames();
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(15);
    const unknown = queries.flatMap((q) => metricNamesIn(q.expr).filter((n) => !known.has(n)).map((n) => `${q.panel}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('the check would catch a misspelt metric', async () => {
    const known = await exposedNames();
    expect(metricNamesIn('rate(bgp_message_received_total[5m])').filter((n) => !known.has(n))).toEqual(['bgp_message_received_total']);
  });

  it('covers peer states, prefixes per peer, update rates, FIB health and event-loop delay', () => {
    const used = new Set(dashboardQueries().flatMap((q) => metricNamesIn(q.expr)));
    for (const name of ['bgp_peer_state', 'bgp_prefixes_received', 'bgp_prefixes_accepted', 'bgp_prefixes_advertised', 'bgp_messages_received_total', 'fib_routes_installed', 'fib_failures_total', 'fib_queue_depth', 'nodejs_eventloop_delay_max_seconds'])
      expect(used.has(name), name).toBe(true);
  });

  it('METRIC_NAMES lists exactly the bgp_, rib_, fib_, bfd_ and event-loop delay series the registry defines', async () => {
    const ours = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => /^(bgp|rib|fib|bfd)_|^nodejs_eventloop_delay_/.test(n));
    expect([...ours].sort()).toEqual([...METRIC_NAMES].sort());
  });
});

describe('deploy/bgp-ts.rules.yml and prometheus.yml', () => {
  it('alert expressions use known metrics; the scrape job targets the default API port', async () => {
    const known = await exposedNames();
    const rules = parseYaml(readFileSync(join(deploy, 'bgp-ts.rules.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const exprs = rules.groups.flatMap((g) => g.rules);
    expect(exprs.length).toBeGreaterThan(0);
    expect(exprs.flatMap((r) => metricNamesIn(r.expr).filter((n) => !known.has(n)).map((n) => `${r.alert}: ${n}`))).toEqual([]);
    const prom = parseYaml(readFileSync(join(deploy, 'prometheus.yml'), 'utf8')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
    expect(prom.scrape_configs[0]).toMatchObject({ metrics_path: '/metrics', static_configs: [{ targets: ['127.0.0.1:9179'] }] });
  });
});

describe('deploy/bgp-ts.service', () => {
  const unit = readFileSync(join(deploy, 'bgp-ts.service'), 'utf8');
  const directive = (key: string) => unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

  it('runs the built CLI on the system config, reloads with SIGHUP, restarts on failure', () => {
    expect(directive('ExecStart')).toEqual(['/usr/bin/node /opt/bgp-ts/dist/cli.js daemon --config /etc/bgp-ts/bgp-ts.yaml']);
    expect(directive('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(directive('Restart')).toEqual(['on-failure']);
  });

  it('holds exactly CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, and is sandboxed', () => {
    const caps = (k: string) => directive(k)[0]!.split(/\s+/).sort();
    expect(caps('AmbientCapabilities')).toEqual(['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE']);
    expect(caps('CapabilityBoundingSet')).toEqual(caps('AmbientCapabilities'));
    expect(directive('NoNewPrivileges')).toEqual(['yes']);
    expect(directive('ProtectSystem')).toEqual(['strict']);
    expect(directive('ProtectHome')).toEqual(['yes']);
    expect(directive('PrivateTmp')).toEqual(['yes']);
    expect(directive('RestrictAddressFamilies')[0]).toContain('AF_NETLINK');
  });
});
