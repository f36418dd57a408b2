// `bgp-ts bfd`: the BFD sessions as a table like FRR's `show bfd peers` brief
// (peer, state, diagnostic, uptime, negotiated tx/rx, detection time, flaps),
// then the datagrams dropped by reason (RFC 5880 §6.8.6, RFC 5881 §5).

import type { ApiBfdList } from '../api/bfd-schemas.js';
import { duration, table } from './tables.js';

const ms = (v: number) => (v > 0 ? `${Math.round(v)}ms` : '-');

export function formatBfd(list: ApiBfdList): string {
  if (list.sessions.length === 0) return 'no BFD sessions (no neighbor or listen range has a bfd block)\n';
  const rows = list.sessions.map((s) => [
    s.peer,
    s.state,
    s.state === 'Up' ? 'none' : (s.downReason ?? s.lastDownDiagnostic),
    s.state === 'Up' ? duration(s.uptimeSeconds) : '-',
    ms(s.txIntervalMs),
    ms(s.rxIntervalMs),
    `${s.multiplier}/${s.remoteMultiplier || '-'}`,
    ms(s.detectionTimeMs),
    String(s.flaps),
  ]);
  let out = table(['PEER', 'STATE', 'DIAGNOSTIC', 'UPTIME', 'TX', 'RX', 'MULT', 'DETECT', 'FLAPS'], rows);
  const dropped = Object.entries(list.dropped).filter(([, n]) => (n ?? 0) > 0);
  if (dropped.length > 0) out += `dropped: ${dropped.map(([k, n]) => `${k} ${n}`).join(', ')}\n`;
  return out;
}
