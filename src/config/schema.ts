// The configuration contract (DESIGN.md, "The contract"): one TypeBox schema
// that the loader validates with, the API shares, and
// `node dist/config/json-schema.js > config/bgp-ts.schema.json` turns into a
// JSON Schema for editors. Keys are camelCase; defaults live here so every
// consumer sees the same values. Importing this module registers the string
// formats it names ('ipv4', 'ip', 'prefix', formats.ts) with TypeBox.

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import './formats.js';

const Ipv4 = Type.String({ format: 'ipv4', description: 'IPv4 address' });
const IpAddress = Type.String({ format: 'ip', description: 'IPv4 or IPv6 address' });
const Prefix = Type.String({ format: 'prefix', description: 'IPv4 or IPv6 prefix, e.g. 10.244.1.0/26' });
const Asn = Type.Integer({ minimum: 1, maximum: 4294967295, description: '2- or 4-octet AS number' });
const Family = Type.Union([Type.Literal('ipv4-unicast'), Type.Literal('ipv6-unicast')]);
/** Standard "aa:nn" or large "aa:nn:mm" community. */
const Community = Type.String({ pattern: '^\\d+:\\d+(:\\d+)?$', description: '"aa:nn" or large "aa:nn:mm"' });

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);

/** A policy rule (Calico BGPFilter-like): first match wins. */
export const PolicyRuleSchema = Type.Object(
  {
    match: Opt(
      Type.Object(
        {
          prefix: Opt(Prefix),
          /** Equal | In (within, honouring ge/le) | NotEqual | NotIn */
          matchOperator: Opt(
            Type.Union([Type.Literal('equal'), Type.Literal('in'), Type.Literal('notEqual'), Type.Literal('notIn')]),
          ),
          ge: Opt(Type.Integer({ minimum: 0, maximum: 128 })),
          le: Opt(Type.Integer({ minimum: 0, maximum: 128 })),
          family: Opt(Family),
          communities: Opt(Type.Array(Community)),
          asPathContains: Opt(Asn),
          asPathPrefix: Opt(Type.Array(Asn)),
          nextHop: Opt(Prefix),
          peerType: Opt(Type.Union([Type.Literal('ebgp'), Type.Literal('ibgp')])),
        },
        { additionalProperties: false },
      ),
    ),
    action: Type.Union([Type.Literal('accept'), Type.Literal('reject')]),
    set: Opt(
      Type.Object(
        {
          localPref: Opt(Type.Integer({ minimum: 0, maximum: 4294967295 })),
          med: Opt(Type.Integer({ minimum: 0, maximum: 4294967295 })),
          addCommunities: Opt(Type.Array(Community)),
          prepend: Opt(Type.Integer({ minimum: 1, maximum: 32 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const GracefulRestart = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /** Seconds, RFC 4724 restart time (12 bits). */
    restartTime: Type.Integer({ minimum: 1, maximum: 4095, default: 120 }),
  },
  { additionalProperties: false },
);

const MaxPrefix = Type.Object(
  {
    limit: Type.Integer({ minimum: 1 }),
    action: Type.Union([Type.Literal('close'), Type.Literal('warn')], { default: 'close' }),
    /** Seconds before reconnecting after a max-prefix close; 0 = stay down until reset. */
    restartDelay: Opt(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** BFD (RFC 5880 §6.8.1) timers in ms; top-level `bfd` holds the defaults, a peer's `bfd` block turns BFD on. */
const BfdMs = (description: string, dflt?: number) =>
  Type.Integer({ minimum: 10, maximum: 60000, description, ...(dflt !== undefined ? { default: dflt } : {}) });
const BfdMult = (dflt?: number) => Type.Integer({ minimum: 1, maximum: 255, description: 'DetectMult', ...(dflt !== undefined ? { default: dflt } : {}) });
const PeerBfd = Type.Object(
  { enabled: Type.Boolean({ default: true }), minRx: Opt(BfdMs('RequiredMinRxInterval')), minTx: Opt(BfdMs('DesiredMinTxInterval')), multiplier: Opt(BfdMult()) },
  { additionalProperties: false },
);

/** Settings shared by configured neighbors and listen ranges. */
const PeerCommon = {
  description: Opt(Type.String({ maxLength: 255 })),
  routeReflectorClient: Type.Boolean({ default: false }),
  nextHopMode: Type.Union([Type.Literal('auto'), Type.Literal('self'), Type.Literal('keep')], { default: 'auto' }),
  /** Seconds; 0 disables keepalives and the hold timer, else >= 3 (RFC 4271 §4.2). */
  holdTime: Type.Integer({ minimum: 0, maximum: 65535, default: 90 }),
  /** Seconds; default a third of the negotiated hold time. */
  keepaliveTime: Opt(Type.Integer({ minimum: 1, maximum: 21845 })),
  families: Type.Array(Family, { default: ['ipv4-unicast', 'ipv6-unicast'], minItems: 1, uniqueItems: true }),
  gracefulRestart: Opt(GracefulRestart),
  maxPrefix: Opt(MaxPrefix),
  /** TCP MD5 signature key (RFC 2385). */
  password: Opt(Type.String({ minLength: 1, maxLength: 80 })),
  /** GTSM (RFC 5082): the peer is at most this many hops away. */
  ttlSecurity: Opt(Type.Integer({ minimum: 1, maximum: 254 })),
  /** Calico numAllowedLocalASNumbers (allowas-in). */
  allowAsIn: Opt(Type.Integer({ minimum: 0, maximum: 10 })),
  addPath: Opt(Type.Union([Type.Literal('none'), Type.Literal('receive'), Type.Literal('send'), Type.Literal('both')])),
  import: Opt(Type.Array(PolicyRuleSchema)),
  export: Opt(Type.Array(PolicyRuleSchema)),
  bfd: Opt(PeerBfd),
};

export const NeighborSchema = Type.Object(
  {
    address: IpAddress,
    asn: Asn,
    /** Remote TCP port (179). */
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 179 }),
    /** Source address for outgoing connections (Calico sourceAddress: UseNodeIP). */
    localAddress: Opt(IpAddress),
    /** Local ASN for this session (Calico localASNumber); default the global asn. */
    localAsn: Opt(Asn),
    /** Never connect; wait for the peer. */
    passive: Type.Boolean({ default: false }),
    /** Seconds between connection attempts (jittered). */
    connectRetryTime: Type.Integer({ minimum: 1, maximum: 65535, default: 5 }),
    /** Administratively down: configured but not started; still listed as a peer (Idle, adminShutdown). */
    shutdown: Type.Boolean({ default: false }),
    ...PeerCommon,
  },
  { additionalProperties: false },
);

export const ListenRangeSchema = Type.Object(
  {
    prefix: Prefix,
    asn: Asn,
    ...PeerCommon,
  },
  { additionalProperties: false },
);

export const OriginateSchema = Type.Object(
  {
    prefix: Prefix,
    communities: Opt(Type.Array(Community)),
  },
  { additionalProperties: false },
);

export const IpPoolSchema = Type.Object(
  {
    cidr: Prefix,
    mode: Type.Union([Type.Literal('ipip'), Type.Literal('direct'), Type.Literal('crossSubnet')], { default: 'direct' }),
    /** false: the FIB does not program routes of this pool (Calico EnabledNoEncapOnly / VXLAN). */
    program: Type.Boolean({ default: true }),
    /** Calico disableBGPExport. */
    disableExport: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export const FibSchema = Type.Object(
  {
    /** false: no FIB at all (nothing written, nothing recorded). */
    enabled: Type.Boolean({ default: true }),
    /** true: never write kernel routes; record what would be written (bgp-ts fib). Also chosen without root/CAP_NET_ADMIN. */
    dryRun: Type.Boolean({ default: false }),
    table: Type.Integer({ minimum: 1, maximum: 4294967295, default: 254 }),
    /** Route protocol number; 12 (BIRD) when replacing BIRD inside Calico. */
    protocol: Type.Integer({ minimum: 1, maximum: 255, default: 201 }),
    ecmp: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
    /** Create tunl0 when an ipip pool needs it. */
    manageTunnel: Type.Boolean({ default: false }),
    tunnelMtu: Opt(Type.Integer({ minimum: 576, maximum: 65535 })),
    /** Encapsulation for prefixes outside every IP pool. */
    defaultMode: Type.Union([Type.Literal('direct'), Type.Literal('ipip')], { default: 'direct' }),
    /**
     * crossSubnet's "this node's subnets": a next hop inside one is reached direct, else over tunl0.
     * Absent: the subnets of this host's addresses, as the kernel reports them. A datastore supplies
     * the prefix of the Node's ipv4Address / ipv6Address, as Calico does (a file's value wins).
     */
    nodeSubnets: Opt(Type.Array(Prefix, { minItems: 1 })),
  },
  { additionalProperties: false },
);

/** Where the cluster's part of the config comes from (src/cluster/, DESIGN.md "Cluster datastores"). */
export const DatastoreSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('etcdv3'), Type.Literal('kubernetes')]),
    endpoints: Opt(Type.Array(Type.String({ pattern: '^https?://[^/]+/?$', description: 'http(s)://host:port' }), { minItems: 1 })),
    /** TLS (https endpoints): CA bundle, client certificate and key, PEM files. */
    caFile: Opt(Type.String()),
    certFile: Opt(Type.String()),
    keyFile: Opt(Type.String()),
    /** etcd user/password authentication. */
    username: Opt(Type.String({ minLength: 1 })),
    password: Opt(Type.String({ minLength: 1 })),
    /** This node's name in the datastore; default $NODENAME, else the hostname. */
    nodeName: Opt(Type.String({ minLength: 1, maxLength: 253 })),
    kubeconfig: Opt(Type.String()),
    /** kubernetes: where this node's blocks come from; absent: calico-ipam when BlockAffinities exist, else node-pod-cidr. */
    blocks: Opt(Type.Union([Type.Literal('calico-ipam'), Type.Literal('node-pod-cidr')])),
    /** kubernetes: the namespace of the Secrets BGPPeer passwords name (default kube-system). */
    secretsNamespace: Opt(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' })),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    routerId: Ipv4,
    asn: Asn,
    /** Hostname announced in the FQDN capability; default os.hostname(). */
    hostname: Opt(Type.String({ maxLength: 255 })),
    listen: Type.Object(
      {
        addresses: Type.Array(IpAddress, { default: ['0.0.0.0', '::'] }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 179 }),
        /** false: accept no incoming connections. */
        enabled: Type.Boolean({ default: true }),
      },
      { additionalProperties: false, default: {} },
    ),
    clusterId: Opt(Ipv4),
    /** Reflect routes between clients (RFC 4456 §5); off when clients are fully meshed. */
    clientToClientReflection: Type.Boolean({ default: true }),
    alwaysCompareMed: Type.Boolean({ default: false }),
    /** RFC 8212: eBGP without explicit policy neither imports nor exports. */
    ebgpRequiresPolicy: Type.Boolean({ default: false }),
    neighbors: Type.Array(NeighborSchema, { default: [] }),
    listenRanges: Type.Array(ListenRangeSchema, { default: [] }),
    originate: Type.Array(OriginateSchema, { default: [] }),
    ipPools: Type.Array(IpPoolSchema, { default: [] }),
    /** Prefixes never programmed into the kernel when learned (Calico service CIDRs). */
    serviceCidrs: Type.Array(Prefix, { default: [] }),
    import: Opt(Type.Array(PolicyRuleSchema)),
    export: Opt(Type.Array(PolicyRuleSchema)),
    fib: Type.Object(FibSchema.properties, { additionalProperties: false, default: {} }),
    api: Type.Object(
      {
        listen: Type.String({ default: '127.0.0.1:9179', description: 'host:port, [v6]:port, or "none"' }),
        token: Opt(Type.String({ minLength: 16 })),
        tokenFile: Opt(Type.String()),
      },
      { additionalProperties: false, default: {} },
    ),
    bfd: Type.Object(
      { minRx: BfdMs('RequiredMinRxInterval', 300), minTx: BfdMs('DesiredMinTxInterval', 300), multiplier: BfdMult(3) },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    datastore: Opt(DatastoreSchema),
  },
  { additionalProperties: false, $id: 'https://bgp-ts.invalid/config.schema.json', title: 'bgp-ts configuration' },
);

export type BgpConfig = Static<typeof ConfigSchema>;
export type NeighborConfig = Static<typeof NeighborSchema>;
export type ListenRangeConfig = Static<typeof ListenRangeSchema>;
export type PolicyRule = Static<typeof PolicyRuleSchema>;
export type OriginateConfig = Static<typeof OriginateSchema>;
export type IpPoolConfig = Static<typeof IpPoolSchema>;
export type FibConfig = Static<typeof FibSchema>;
export type DatastoreConfig = Static<typeof DatastoreSchema>;
