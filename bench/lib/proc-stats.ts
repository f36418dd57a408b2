// What /proc says about a process under benchmark (Linux proc(5)): CPU time
// (utime + stime, /proc/PID/stat fields 14 and 15, in clock ticks of 100/s),
// memory (/proc/PID/status VmRSS, and VmHWM, the peak resident set), and
// write syscalls (/proc/PID/io syscw: write, writev, sendmsg and the like,
// which shows whether a daemon batches its output). Readable for any process
// on the host by root, namespaces notwithstanding (one PID namespace).

import { readFileSync } from 'node:fs';

export interface ProcSample {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly hwmBytes: number;
  readonly writeSyscalls: number;
}

const TICKS_PER_SECOND = 100; // sysconf(_SC_CLK_TCK) on Linux

export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the command name may hold spaces
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function procWriteSyscalls(pid: number): number {
  const m = /^syscw:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

export function sampleProc(pid: number): ProcSample {
  return { cpuSeconds: procCpuSeconds(pid), rssBytes: statusField(pid, 'VmRSS'), hwmBytes: statusField(pid, 'VmHWM'), writeSyscalls: procWriteSyscalls(pid) };
}
