// The FIB (DESIGN.md, FIB): pure core (route forms per IP pool, desired table,
// reconcile diff, write queue), the writers (kernel over rtnetlink, dry run),
// the host context (links, addresses) and the factory choosing the writer.
export { DesiredTable, desiredRouteFor, opsForUpdate, type DesiredOptions, type DesiredUpdate } from './desired.js';
export { DryRunWriter, type DryRunOptions, type WriteRecord } from './dryrun.js';
export { canWriteRoutes, createFibWriter, createTunnelDevice, type FibBackend, type FibFactoryOptions, type FibMode } from './factory.js';
export { HostContext, type HostInput, type HostSocket } from './host-context.js';
export { KernelFibWriter, type KernelWriterOptions, type OperationCounts, type RouteSocket } from './kernel-sync.js';
export { compileFormContext, resolveForm, type EncapMode, type FormContext, type LinkState, type RouteForm } from './modes.js';
export { FibQueue, type QueueOptions } from './queue.js';
export { diff, driftVerdict, Reconciler, sameRoute, toOps, type ReconcileResult } from './reconcile.js';
export * from './types.js';
