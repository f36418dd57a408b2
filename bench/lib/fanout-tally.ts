// The fan-out benchmark's address plan and its per-client receive tally. PURE:
// no sockets, timers or I/O, so the counting is tested on its own.
//
// The plan: client i (0-based) speaks from 10.1.0.0 + 1 + i (one /32 each,
// all inside one listen range, 10.1.0.0/16) and announces K /26 blocks,
// block (i, k) = 100.64.0.0 + (i·K + k)·64, in one UPDATE with its own
// address as NEXT_HOP. A reflector must give every client the C·K − K blocks
// of the others, each with the originator's NEXT_HOP (RFC 4456 §10: the
// reflector does not change it) and ORIGINATOR_ID = the originator's BGP
// Identifier, which is its address (RFC 4456 §8), and not its own blocks back.
//
// The tally frames the byte stream (RFC 4271 §4.1: marker, length, type) and
// walks each UPDATE's fields (§4.3: Withdrawn Routes, Path Attributes, NLRI)
// without building objects: it reads NEXT_HOP (type 3) and ORIGINATOR_ID
// (type 9), and keeps the prefixes held as one bit per plan block, so 2,500
// clients × 10,000 blocks cost 3 MB, not 25 M set entries.

export const CLIENT_BASE = 0x0a010000; // 10.1.0.0
export const CLIENT_RANGE = '10.1.0.0/16';
export const BLOCK_BASE = 0x64400000; // 100.64.0.0
export const BLOCK_LENGTH = 26;
const BLOCK_SIZE = 1 << (32 - BLOCK_LENGTH);
/** 100.64.0.0/10 holds 2^16 /26 blocks. */
export const MAX_BLOCKS = 1 << 16;

export interface FanoutPlan {
  /** Clients (C). */
  readonly clients: number;
  /** Blocks per client (K). */
  readonly blocks: number;
}

export function checkPlan(plan: FanoutPlan): void {
  if (!Number.isInteger(plan.clients) || plan.clients < 2 || plan.clients > 65_000) throw new Error(`FANOUT_C: ${plan.clients} clients; need 2..65000 (one /16 of client addresses)`);
  if (!Number.isInteger(plan.blocks) || plan.blocks < 1 || plan.blocks > 500) throw new Error(`FANOUT_K: ${plan.blocks} blocks; need 1..500 (one UPDATE of 4096 octets)`);
  if (plan.clients * plan.blocks > MAX_BLOCKS) throw new Error(`C·K = ${plan.clients * plan.blocks} blocks exceeds the ${MAX_BLOCKS} /26 blocks of 100.64.0.0/10`);
}

/** Client i's address (also its BGP Identifier) as a 32-bit number. */
export const clientAddress = (i: number): number => (CLIENT_BASE + 1 + i) >>> 0;

/** Block (i, k)'s network address. */
export const blockAddress = (plan: FanoutPlan, i: number, k: number): number => (BLOCK_BASE + (i * plan.blocks + k) * BLOCK_SIZE) >>> 0;

export const dotted = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** Prefixes a complete client holds: everyone's blocks but its own. */
export const expectedHeld = (plan: FanoutPlan): number => (plan.clients - 1) * plan.blocks;

/** Counters one client accumulates; all cumulative. */
export interface TallyCounters {
  messages: number;
  bytes: number;
  keepalives: number;
  notifications: number;
  /** UPDATE messages of any kind (End-of-RIB included). */
  updates: number;
  /** UPDATEs carrying NLRI. */
  announceUpdates: number;
  /** UPDATEs carrying Withdrawn Routes. */
  withdrawUpdates: number;
  /** RFC 4724 §2: an UPDATE with no withdrawn routes, no attributes, no NLRI. */
  endOfRib: number;
  nlriAnnounced: number;
  nlriWithdrawn: number;
  /** Announcing UPDATEs that carried exactly one originator's K blocks, all of them. */
  wholeOriginators: number;
  /** NLRI outside the plan or not a /26 of it. */
  foreignPrefixes: number;
  /** The client's own blocks reflected back to it. */
  ownPrefixes: number;
  /** NEXT_HOP missing or not the originator's address. */
  wrongNextHop: number;
  /** ORIGINATOR_ID missing or not the originator's BGP Identifier. */
  wrongOriginator: number;
  /** Framing or field-length errors (the rest of the stream is dropped). */
  malformed: number;
}

export const COUNTER_NAMES: readonly (keyof TallyCounters)[] = [
  'messages',
  'bytes',
  'keepalives',
  'notifications',
  'updates',
  'announceUpdates',
  'withdrawUpdates',
  'endOfRib',
  'nlriAnnounced',
  'nlriWithdrawn',
  'wholeOriginators',
  'foreignPrefixes',
  'ownPrefixes',
  'wrongNextHop',
  'wrongOriginator',
  'malformed',
];

const zero = (): TallyCounters => Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as unknown as TallyCounters;

/** Message types (RFC 4271 §4.1) seen in one push, as bits 1 << type. */
export const SAW_OPEN = 1 << 1;
export const SAW_NOTIFICATION = 1 << 3;
export const SAW_KEEPALIVE = 1 << 4;

const HEADER = 19;
const ATTR_NEXT_HOP = 3;
const ATTR_ORIGINATOR_ID = 9;

export class ClientTally {
  readonly counters: TallyCounters = zero();
  /** Plan blocks of other clients held now, each with the right attributes. */
  held = 0;
  private readonly bits: Uint8Array;
  private readonly total: number;
  private pending: Buffer | undefined;
  private broken = false;

  constructor(
    readonly plan: FanoutPlan,
    /** This client's index. */
    readonly self: number,
  ) {
    this.total = plan.clients * plan.blocks;
    this.bits = new Uint8Array((this.total + 7) >> 3);
  }

  /** Prefixes wrong in any way so far (a client with any is a failure). */
  get wrong(): number {
    const c = this.counters;
    return c.foreignPrefixes + c.ownPrefixes + c.wrongNextHop + c.wrongOriginator + c.malformed;
  }

  /** Holds exactly the others' blocks and never saw a wrong one. */
  get complete(): boolean {
    return this.held === expectedHeld(this.plan) && this.wrong === 0;
  }

  /** Whether the block with plan index idx is held. */
  holds(idx: number): boolean {
    return (this.bits[idx >> 3]! & (1 << (idx & 7))) !== 0;
  }

  /** Feeds one TCP chunk; returns the non-UPDATE message types seen, as SAW_* bits. */
  push(chunk: Buffer): number {
    if (this.broken) return 0;
    this.counters.bytes += chunk.length;
    let b = chunk;
    if (this.pending) {
      b = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let saw = 0;
    let p = 0;
    while (b.length - p >= HEADER) {
      const len = b.readUInt16BE(p + 16);
      // RFC 4271 §4.1: all-ones marker, 19 <= length <= 4096 (65535 with RFC 8654)
      if (len < HEADER || b.readUInt32BE(p) !== 0xffffffff || b.readUInt32BE(p + 12) !== 0xffffffff) {
        this.counters.malformed++;
        this.broken = true;
        return saw;
      }
      if (b.length - p < len) break;
      const type = b[p + 18]!;
      this.counters.messages++;
      if (type === 2) this.update(b, p, p + len);
      else {
        saw |= 1 << type;
        if (type === 4) this.counters.keepalives++;
        else if (type === 3) this.counters.notifications++;
      }
      p += len;
    }
    if (p < b.length) this.pending = Buffer.from(b.subarray(p)); // copy: the chunk's memory is not ours to pin
    return saw;
  }

  /** One UPDATE message occupying b[start, end) (RFC 4271 §4.3). */
  private update(b: Buffer, start: number, end: number): void {
    const c = this.counters;
    c.updates++;
    const wStart = start + HEADER + 2;
    if (wStart > end) return void c.malformed++;
    const wEnd = wStart + b.readUInt16BE(start + HEADER);
    if (wEnd + 2 > end) return void c.malformed++;
    const aStart = wEnd + 2;
    const aEnd = aStart + b.readUInt16BE(wEnd);
    if (aEnd > end) return void c.malformed++;
    if (wEnd === wStart && aEnd === aStart && end === aEnd) return void c.endOfRib++; // RFC 4724 §2
    if (wEnd > wStart) {
      c.withdrawUpdates++;
      for (let q = wStart; q < wEnd; ) {
        const next = this.prefixEnd(b, q, wEnd);
        if (next < 0) return void c.malformed++;
        c.nlriWithdrawn++;
        const idx = this.blockIndex(b, q);
        if (idx >= 0 && this.holds(idx)) {
          this.bits[idx >> 3]! &= ~(1 << (idx & 7));
          this.held--;
        }
        q = next;
      }
    }
    if (end === aEnd) return;
    // Path attributes (§4.3): flags, type, 1- or 2-octet length (Extended Length bit 0x10).
    let nextHop = -1;
    let originator = -1;
    for (let q = aStart; q < aEnd; ) {
      if (q + 3 > aEnd) return void c.malformed++;
      const flags = b[q]!;
      const type = b[q + 1]!;
      const ext = (flags & 0x10) !== 0;
      if (ext && q + 4 > aEnd) return void c.malformed++;
      const len = ext ? b.readUInt16BE(q + 2) : b[q + 2]!;
      const v = q + (ext ? 4 : 3);
      if (v + len > aEnd) return void c.malformed++;
      if (type === ATTR_NEXT_HOP && len === 4) nextHop = b.readUInt32BE(v);
      else if (type === ATTR_ORIGINATOR_ID && len === 4) originator = b.readUInt32BE(v);
      q = v + len;
    }
    c.announceUpdates++;
    let count = 0;
    let owner = -1;
    let oneOwner = true;
    let allRight = true;
    for (let q = aEnd; q < end; ) {
      const next = this.prefixEnd(b, q, end);
      if (next < 0) return void c.malformed++;
      c.nlriAnnounced++;
      count++;
      const idx = this.blockIndex(b, q);
      q = next;
      if (idx < 0) {
        c.foreignPrefixes++;
        allRight = false;
        continue;
      }
      const o = Math.floor(idx / this.plan.blocks);
      if (owner < 0) owner = o;
      else if (o !== owner) oneOwner = false;
      let ok = false;
      if (o === this.self) c.ownPrefixes++;
      else if (nextHop !== clientAddress(o)) c.wrongNextHop++;
      else if (originator !== clientAddress(o)) c.wrongOriginator++;
      else ok = true;
      if (!ok) allRight = false;
      if (ok === this.holds(idx)) continue;
      // a right route becomes held; a wrong one replaces a held one (RFC 4271 §9: the newer route replaces)
      this.bits[idx >> 3]! ^= 1 << (idx & 7);
      this.held += ok ? 1 : -1;
    }
    if (allRight && oneOwner && count === this.plan.blocks) c.wholeOriginators++;
  }

  /** The end of the prefix at q (length octet + ceil(len/8) octets), or -1 if it overruns `limit` or is longer than /32. */
  private prefixEnd(b: Buffer, q: number, limit: number): number {
    const len = b[q]!;
    if (len > 32) return -1;
    const next = q + 1 + ((len + 7) >> 3);
    return next > limit ? -1 : next;
  }

  /** The plan index of the prefix at q, or -1 when it is not one of the plan's /26 blocks. */
  private blockIndex(b: Buffer, q: number): number {
    if (b[q] !== BLOCK_LENGTH) return -1;
    const addr = ((b[q + 1]! << 24) | (b[q + 2]! << 16) | (b[q + 3]! << 8) | b[q + 4]!) >>> 0;
    const off = addr - BLOCK_BASE;
    if (off < 0 || off % BLOCK_SIZE !== 0) return -1;
    const idx = off / BLOCK_SIZE;
    return idx < this.total ? idx : -1;
  }
}

/** Counter deltas since `base`. */
export function countersSince(now: TallyCounters, base: TallyCounters): TallyCounters {
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, now[n] - base[n]])) as unknown as TallyCounters;
}

export const copyCounters = (c: TallyCounters): TallyCounters => ({ ...c });

export interface Spread {
  readonly total: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** Total, min, median and max of per-client values. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { total: 0, min: NaN, median: NaN, max: NaN };
  const s = [...values].sort((a, b) => a - b);
  return { total: s.reduce((a, b) => a + b, 0), min: s[0]!, median: median(s), max: s[s.length - 1]! };
}

/** Median of numbers (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
