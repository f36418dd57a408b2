// `npm run bench`: runs each benchmark module in turn, codec first. To add a
// benchmark, export a run function from bench/<name>.ts and append a step here.
// `npm run bench -- NAME...` runs only the named steps. Node runs with
// --expose-gc (package.json) so heap-per-route figures are exact.

const steps: readonly { readonly name: string; readonly run: () => Promise<unknown> }[] = [
  { name: 'codec', run: async () => (await import('./codec.js')).runCodecBench() },
  { name: 'rib', run: async () => (await import('./rib.js')).runRibBench() },
  { name: 'update-packer', run: async () => (await import('./update-packer.js')).runUpdatePackerBench() },
  { name: 'reflect', run: async () => (await import('./reflect.js')).runReflectBench() },
  { name: 'next-hops', run: async () => (await import('./next-hops.js')).runNextHopsBench() },
  { name: 'fib-reconcile', run: async () => (await import('./fib-reconcile.js')).runFibReconcileBench() },
  // Starts its own etcd on loopback when Debian's etcd-server is installed.
  { name: 'cluster-resync', run: async () => (await import('./cluster-resync.js')).runClusterResyncBench() },
  { name: 'cluster-k8s', run: async () => (await import('./cluster-k8s.js')).runClusterK8sBench() },
  // Needs root (it creates a network namespace); skipped with a reason otherwise.
  {
    name: 'fib-netlink',
    run: async () => {
      if (process.getuid?.() !== 0) return console.log('skipped: the FIB benchmark needs root (network namespace)');
      return (await import('./fib-netlink.js')).runFibNetlinkBench();
    },
  },
  // Root too: best paths -> kernel in process, and BGP -> kernel with the daemon and a feeder in namespaces.
  {
    name: 'fib-e2e',
    run: async () => {
      if (process.getuid?.() !== 0) return console.log('skipped: the FIB benchmark needs root (network namespace)');
      return (await import('./fib-e2e.js')).runFibE2eBenches();
    },
  },
  // Root too: one reflector, C route-reflector clients in a network namespace, bgp-ts beside BIRD 2 (FANOUT_C, FANOUT_K, BENCH_RUNS).
  {
    name: 'fanout',
    run: async () => {
      if (process.getuid?.() !== 0) return console.log('skipped: the fan-out benchmark needs root (network namespaces)');
      return (await import('./fanout.js')).runFanoutBench();
    },
  },
  // Root: 50 BFD sessions in namespaces while 1M routes arrive (worker thread vs main loop).
  { name: 'bfd', run: async () => (await import('./bfd.js')).runBfdBenches() },
];

const only = process.argv.slice(2);
for (const step of steps) {
  if (only.length > 0 && !only.includes(step.name)) continue;
  console.log(`== ${step.name}`);
  await step.run();
}
