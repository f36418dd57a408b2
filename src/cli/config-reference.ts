// The configuration reference, generated from the config schema
// (src/config/schema.ts through its JSON Schema form): every key with its
// type, default and meaning, so the docs cannot drift from what the loader
// accepts. `bgp-ts config reference` prints it; `npm run docs:config` writes
// docs/config-reference.md and the key list in README.md, and
// test/cli/config-reference.test.ts fails when either is stale. Keys, types
// and defaults come from the schema; the one-line meanings below fill in what
// the schema's own `description`s do not say. Policy rules are documented
// once, under `rule`, wherever a key takes a list of them.

import { configJsonSchema } from '../config/json-schema.js';

type Node = {
  type?: string;
  format?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  const?: unknown;
  anyOf?: Node[];
  items?: Node;
  properties?: Record<string, Node>;
  required?: string[];
};

/** What a key means, by path ("neighbors[].holdTime"); the schema supplies the rest. */
const MEANING: Record<string, string> = {
  routerId: 'BGP Identifier (RFC 4271 §4.2), unique in the AS; Calico uses the node IPv4 address',
  asn: 'our AS number (4-octet allowed, RFC 6793)',
  hostname: 'hostname announced in the FQDN capability; default os.hostname()',
  listen: 'where BGP connections are accepted',
  'listen.addresses': 'addresses to listen on',
  'listen.port': 'TCP port (179 needs CAP_NET_BIND_SERVICE; 0 picks one)',
  'listen.enabled': 'false: accept no incoming connections',
  clusterId: 'route reflector cluster ID (RFC 4456 §7); only on a reflector',
  clientToClientReflection: 'reflect routes between clients (RFC 4456 §5); off when clients are fully meshed',
  alwaysCompareMed: 'compare MED between paths from different neighbor ASes',
  ebgpRequiresPolicy: 'RFC 8212: an eBGP session without explicit policy neither imports nor exports',
  neighbors: 'configured peers',
  'neighbors[].address': 'the peer address',
  'neighbors[].asn': 'the peer AS; equal to ours makes an iBGP session',
  'neighbors[].port': 'remote TCP port',
  'neighbors[].localAddress': 'source address for outgoing connections (Calico sourceAddress: UseNodeIP)',
  'neighbors[].localAsn': 'local AS for this session (Calico localASNumber); default the global asn',
  'neighbors[].passive': 'never connect; wait for the peer',
  'neighbors[].connectRetryTime': 'seconds between connection attempts (jittered)',
  'neighbors[].shutdown': 'administratively down: configured but not started; listed as Idle (admin shutdown) by the API, `bgp-ts peers` and bgp_peer_admin_shutdown',
  description: 'a name for the peer, shown by the CLI and accepted by `bgp-ts peer NAME` (Calico: Mesh_<ip>, Node_<ip>, Global_<ip>)',
  routeReflectorClient: 'the peer is our route reflector client (RFC 4456)',
  nextHopMode: 'auto: self toward eBGP, kept toward iBGP; self; keep (Calico nextHopMode)',
  holdTime: 'seconds; 0 disables keepalives and the hold timer, else at least 3 (RFC 4271 §4.2)',
  keepaliveTime: 'seconds; default a third of the negotiated hold time',
  families: 'address families to negotiate (RFC 4760)',
  gracefulRestart: 'graceful restart (RFC 4724)',
  'gracefulRestart.enabled': 'advertise the capability and keep the peer routes while it restarts',
  'gracefulRestart.restartTime': 'seconds the peer may take to come back (Calico maxRestartTime)',
  maxPrefix: 'a limit on prefixes accepted from the peer',
  'maxPrefix.limit': 'the number of prefixes',
  'maxPrefix.action': 'close: Cease / Maximum Number of Prefixes Reached (RFC 4486); warn: log only',
  'maxPrefix.restartDelay': 'seconds before reconnecting after a max-prefix close; 0 stays down until reset',
  password: 'TCP MD5 signature key (RFC 2385)',
  ttlSecurity: 'GTSM (RFC 5082): the peer is at most this many hops away',
  allowAsIn: 'accept our own AS this many times in the AS path (Calico numAllowedLocalASNumbers)',
  addPath: 'ADD-PATH (RFC 7911) for the session',
  import: 'import policy rules, first match wins (see `rule`)',
  export: 'export policy rules, first match wins (see `rule`)',
  listenRanges: 'dynamic neighbors: any address in the prefix may connect',
  'listenRanges[].prefix': 'addresses allowed to connect',
  'listenRanges[].asn': 'the AS they must announce',
  originate: 'prefixes this node announces (a Calico node announces its IPAM blocks, blackholed locally)',
  'originate[].prefix': 'the prefix',
  'originate[].communities': 'communities attached',
  ipPools: 'pod IP pools: the kernel route form of learned routes inside each',
  'ipPools[].cidr': 'the pool',
  'ipPools[].mode': 'ipip: via tunl0 onlink; direct; crossSubnet: direct on a local subnet, else ipip (Calico ipipMode)',
  'ipPools[].program': 'false: routes of this pool are not programmed (Calico EnabledNoEncapOnly, VXLAN)',
  'ipPools[].disableExport': 'never announce prefixes of this pool (Calico disableBGPExport)',
  serviceCidrs: 'prefixes never programmed into the kernel when learned (Calico service CIDRs)',
  fib: 'the kernel routing table writer',
  'fib.enabled': 'false: no FIB at all, nothing written and nothing recorded',
  'fib.dryRun': 'true: never write kernel routes, record what would be written (`bgp-ts fib`); also chosen when not root and without CAP_NET_ADMIN',
  'fib.table': 'kernel routing table (254 is main)',
  'fib.protocol': 'route protocol number of our routes; 12 (BIRD) inside Calico, never 186 (FRR) or 80 (Felix)',
  'fib.ecmp': 'most next hops in one multipath route',
  'fib.manageTunnel': 'create tunl0 when an ipip pool needs it',
  'fib.tunnelMtu': 'MTU of the tunl0 that bgp-ts creates',
  'fib.defaultMode': 'route form for prefixes outside every IP pool',
  'fib.nodeSubnets': "crossSubnet's local subnets: a next hop inside one is reached direct, else over tunl0; absent: the host's connected subnets (a datastore supplies the Node's address prefix, as Calico does)",
  api: 'the HTTP API and /metrics',
  'api.listen': 'host:port, [v6]:port, or "none"; beyond loopback, writes need the token',
  'api.token': 'bearer token for write endpoints (at least 16 characters)',
  'api.tokenFile': 'a file holding the token (read at start and reload)',
  log: 'logging (pino JSON on stdout)',
  'log.level': 'the least severe level logged',
  datastore: 'where the cluster supplies blocks, pools, mesh and peers (Calico etcd v3 or Kubernetes); the file is the base',
  bfd: 'BFD defaults (RFC 5880 asynchronous mode, RFC 5881 single hop); a peer turns BFD on with its own `bfd` block',
  'bfd.minRx': 'RequiredMinRxInterval, ms: the fastest we want to receive',
  'bfd.minTx': 'DesiredMinTxInterval, ms: the fastest we would send',
  'bfd.multiplier': 'DetectMult: packets missed before the session is declared Down',
  'neighbors[].bfd': 'BFD for this peer: Down after Up closes the session at once with Cease / BFD Down (RFC 9384); timers default to the top-level `bfd`',
  'listenRanges[].bfd': 'BFD for every dynamic peer of the range (as neighbors[].bfd)',
  'neighbors[].bfd.enabled': 'false keeps the block but runs no BFD session',
  'listenRanges[].bfd.enabled': 'false keeps the block but runs no BFD session',
  'datastore.type': 'etcdv3: Calico\'s etcd v3 layout; kubernetes: Calico\'s resources in the Kubernetes API',
  'datastore.endpoints': 'etcd endpoints, http(s)://host:port',
  'datastore.caFile': 'TLS: CA bundle (PEM) for https endpoints',
  'datastore.certFile': 'TLS: client certificate (PEM)',
  'datastore.keyFile': 'TLS: client key (PEM)',
  'datastore.username': 'etcd user (with password)',
  'datastore.password': 'etcd password',
  'datastore.nodeName': "this node's name in the datastore; default $NODENAME (Calico's variable; the DaemonSet sets it from the downward API), else the hostname",
  'datastore.kubeconfig': 'kubernetes: a kubeconfig file; absent: the in-cluster service account',
  'datastore.blocks': "kubernetes: this node's blocks from Calico IPAM (calico-ipam: BlockAffinities) or the Node's spec.podCIDRs (node-pod-cidr); absent: calico-ipam when BlockAffinities exist",
  'datastore.secretsNamespace': 'kubernetes: namespace of the Secrets that BGPPeer passwords and nodeMeshPassword name, read by name; default kube-system',
  'rule.match': 'what the rule matches; every given condition must hold',
  'rule.match.prefix': 'the prefix compared with matchOperator',
  'rule.match.matchOperator': 'equal, in (within the prefix, honouring ge/le), notEqual, notIn (Calico BGPFilter)',
  'rule.match.ge': 'shortest prefix length matched with in',
  'rule.match.le': 'longest prefix length matched with in',
  'rule.match.family': 'address family',
  'rule.match.communities': 'communities the route must all carry',
  'rule.match.asPathContains': 'an AS anywhere in the AS path',
  'rule.match.asPathPrefix': 'the AS path begins with these ASes',
  'rule.match.nextHop': 'the next hop is inside this prefix',
  'rule.match.peerType': 'the session type',
  'rule.action': 'accept or reject the route',
  'rule.set': 'changes made to an accepted route',
  'rule.set.localPref': 'LOCAL_PREF',
  'rule.set.med': 'MULTI_EXIT_DISC',
  'rule.set.addCommunities': 'communities added',
  'rule.set.prepend': 'prepend our AS this many times',
};

export interface ReferenceRow {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly meaning: string;
}

const isRuleList = (n: Node) => n.type === 'array' && n.items?.properties?.['action'] !== undefined;

function typeText(n: Node): string {
  if (n.anyOf) return n.anyOf.map((a) => (a.const !== undefined ? JSON.stringify(a.const) : typeText(a))).join(' \\| ');
  if (isRuleList(n)) return 'list of rules';
  if (n.type === 'array') return `list of ${n.items ? (n.items.type === 'object' ? 'mappings' : typeText(n.items)) : 'values'}`;
  if (n.type === 'object') return 'mapping';
  if (n.type === 'string' && n.format) return n.format === 'ip' ? 'IP address' : n.format === 'ipv4' ? 'IPv4 address' : n.format;
  if (n.type === 'string' && n.pattern) return n.description ?? 'string';
  if (n.type === 'integer' && (n.minimum !== undefined || n.maximum !== undefined)) return `integer ${n.minimum ?? ''}–${n.maximum ?? ''}`;
  if (n.type === 'string' && n.maxLength !== undefined) return `string (≤ ${n.maxLength})`;
  return n.type ?? 'value';
}

function defaultText(n: Node, required: boolean): string {
  if (n.default === undefined) return required ? 'required' : '';
  if (typeof n.default === 'object' && n.default !== null && !Array.isArray(n.default) && Object.keys(n.default).length === 0) return '';
  return `\`${JSON.stringify(n.default)}\``;
}

/** Peer settings shared by neighbors[] and listenRanges[] are documented by their bare name. */
const meaningOf = (path: string, n: Node): string => MEANING[path] ?? MEANING[path.replace(/^(neighbors|listenRanges)\[\]\./, '')] ?? n.description ?? '';

function walk(node: Node, prefix: string, rows: ReferenceRow[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    rows.push({ key: path, type: typeText(child), default: defaultText(child, node.required?.includes(key) ?? false), meaning: meaningOf(path, child) });
    if (isRuleList(child)) continue;
    if (child.type === 'object') walk(child, path, rows);
    else if (child.type === 'array' && child.items?.type === 'object') walk(child.items, `${path}[]`, rows);
  }
}

/** Every key of the config, in schema order, then the policy rule's keys under `rule`. */
export function configReferenceRows(): ReferenceRow[] {
  const schema = configJsonSchema() as Node;
  const rows: ReferenceRow[] = [];
  walk(schema, '', rows);
  const rule = schema.properties?.['import']?.items;
  if (rule) walk(rule, 'rule', rows);
  return rows;
}

/** docs/config-reference.md. */
export function configReferenceMarkdown(): string {
  const rows = configReferenceRows();
  const cell = (t: string) => t.replace(/(?<!\\)\|/g, '\\|');
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config` (bgp-ts config reference); do not edit. -->',
    '',
    'One YAML file (`bgp-ts daemon --config FILE`, `/etc/bgp-ts/bgp-ts.yaml` when installed), validated against',
    'this schema (`config/bgp-ts.schema.json` for editors); `bgp-ts config check FILE` names the key of every',
    'error. `a[].b` is key `b` of each entry of the list `a`. Keys of a policy rule are listed once, under `rule`.',
    '',
    '| Key | Type | Default | Meaning |',
    '|---|---|---|---|',
    ...rows.map((r) => `| \`${r.key}\` | ${cell(r.type)} | ${r.default} | ${cell(r.meaning)} |`),
    '',
  ].join('\n');
}

export const README_BEGIN = '<!-- config-keys: generated by npm run docs:config -->';
export const README_END = '<!-- /config-keys -->';

/** The README's key list: the plain top-level keys on one line, then each key with sub-keys on its own. */
export function readmeKeyList(): string {
  const rows = configReferenceRows().filter((r) => !r.key.startsWith('rule.'));
  const subKeys = (key: string) =>
    rows
      .map((r) => (r.key.startsWith(`${key}.`) || r.key.startsWith(`${key}[].`) ? r.key.slice(key.length).replace(/^(\[\])?\./, '') : undefined))
      .filter((sub): sub is string => sub !== undefined && !sub.includes('.'));
  const top = rows.filter((r) => !r.key.includes('.'));
  const plain = top.filter((t) => subKeys(t.key).length === 0).map((t) => `\`${t.key}\``);
  const nested = top
    .filter((t) => subKeys(t.key).length > 0)
    .map((t) => `- \`${t.key}${rows.some((r) => r.key.startsWith(`${t.key}[].`)) ? '[]' : ''}\`: ${subKeys(t.key).map((k) => `\`${k}\``).join(', ')}`);
  return [README_BEGIN, `- ${plain.join(', ')}`, ...nested, README_END].join('\n');
}
