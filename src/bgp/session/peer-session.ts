// PeerSession: the shell around one BGP peer. It owns the TCP connection(s),
// real timers (through the injected Clock) and feeds socket events and decoded
// messages into the pure FSM `step` (RFC 4271 §8), then carries out the
// actions: connect, send, start/stop timer, close, established, session-down,
// deliver. Up to two connections run at once, each with its own FsmState
// ("chain"); RFC 4271 §6.8 collision resolution (fsm/collision.ts) keeps one.
// The owner hears typed events: state, established, update, route-refresh,
// notification, down, writable; `messages` counts what was framed in and
// queued out per RFC 4271 §4.1 type. Nothing thrown inside escapes to the process:
// every socket and timer callback is guarded and turns a failure into a reset.

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  encodeNotification,
  type Decoded,
  type InboundMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
  type WireError,
} from '../wire/index.js';
import type { DecodedUpdate } from '../wire/update.js';
import {
  admitInbound,
  step,
  type DownReason,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type NegotiatedSession,
  type SessionState,
} from '../fsm/index.js';
import { connectPeer } from './connector.js';
import { Connection } from './connection.js';
import { TIMER_EVENTS, collisionLoser, decodeErrorEvent, discardChain, newChain, type Chain } from './chain.js';
import { logEstablished, logMessageError, logNotification, logStateChange, logUpdate, type PeerLogFields } from './session-log.js';
import type { PeerSessionEvents, PeerSessionOptions, SessionDown } from './types.js';

export type { PeerSessionEvents, PeerSessionOptions, SessionDown };

import { TYPE_NAMES, countMessages, zeroCounts, type MessageCounts, type MessageTypeName } from './sent-counts.js';

export type { MessageCounts, MessageTypeName };

export class PeerSession extends EventEmitter<PeerSessionEvents> {
  readonly address: string;
  readonly asn: number;
  private primary: Chain = newChain();
  private secondary: Chain | undefined;
  private reported: SessionState = 'Idle';
  private queue: { chain: Chain; event: FsmEvent }[] = [];
  private running = false;
  private closing = new Set<Promise<void>>();
  private negotiated: NegotiatedSession | undefined;
  private establishedAt: number | undefined;
  private readonly who: PeerLogFields;
  /** opts.fsm until setFsmConfig replaces it. */
  private fsmConfig: FsmConfig;
  /** UPDATEs fed to the FSM, to emit with their RFC 7606 verdicts when they come back as `deliver`. */
  private readonly decoded = new WeakMap<UpdateMessage, DecodedUpdate>();
  /** Messages received and sent on this session's connections since it was created (metrics, API). */
  readonly messages: { readonly received: MessageCounts; readonly sent: MessageCounts } = { received: zeroCounts(), sent: zeroCounts() };

  constructor(private readonly opts: PeerSessionOptions) {
    super();
    this.fsmConfig = opts.fsm;
    this.address = opts.address;
    this.asn = opts.asn;
    this.who = { peer: opts.address, asn: opts.asn };
  }

  get state(): SessionState {
    return this.primary.fsm.state;
  }

  /** The negotiated session while Established. */
  get session(): NegotiatedSession | undefined {
    return this.state === 'Established' ? this.negotiated : undefined;
  }

  /** Clock time the session reached Established, while it is. */
  get establishedSince(): number | undefined {
    return this.state === 'Established' ? this.establishedAt : undefined;
  }

  /** Event 1/4 ManualStart (passive from the config). */
  start(): void {
    this.feed(this.primary, { type: 'ManualStart' });
  }

  /**
   * Event 2 ManualStop: Cease (default subcode 2 Administrative Shutdown) with
   * an RFC 8203 shutdown communication; resolves once the connections closed.
   * `silent`: no NOTIFICATION at all, the TCP connection is just closed (RFC 4724 §4,
   * the restarting speaker: the peer keeps our routes as stale for our restart time).
   */
  async stop(opts: { subcode?: number; text?: string; reason?: DownReason; data?: Buffer; silent?: boolean } = {}): Promise<void> {
    const ev: FsmEvent = {
      type: 'ManualStop',
      ...(opts.silent ? { silent: true } : {}),
      ...(opts.data !== undefined ? { data: opts.data } : {}),
      ...(opts.subcode !== undefined ? { subcode: opts.subcode } : {}),
      ...(opts.text !== undefined ? { message: opts.text } : {}),
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    };
    if (this.secondary) this.feed(this.secondary, ev);
    this.feed(this.primary, ev);
    await Promise.all([...this.closing]);
  }

  /**
   * New FSM settings for the next OPEN (e.g. the RFC 4724 R bit cleared after our restart);
   * an OPEN already sent stays what it was (the FSM keeps it in its state).
   */
  setFsmConfig(fsm: FsmConfig): void {
    this.fsmConfig = fsm;
  }

  /** Drops everything without NOTIFICATION or events (the owner is going away). */
  dispose(): void {
    for (const c of [this.primary, this.secondary]) if (c) discardChain(c);
    this.removeAllListeners();
  }

  /** Sends an UPDATE on the Established connection; false when not up or backpressured. */
  sendUpdate(update: UpdateMessage): boolean {
    const conn = this.establishedConn();
    if (!conn) return false;
    if (conn.send(update)) this.messages.sent.update++;
    return conn.writable;
  }

  /** Sends pre-encoded messages (UPDATEs, RFC 7313 BoRR/EoRR); false when not up or backpressured. */
  sendRaw(bytes: Buffer): boolean {
    const conn = this.establishedConn();
    if (!conn || conn.closed) return false;
    countMessages(this.messages.sent, bytes); // by each message's type octet (sent-counts.ts)
    return conn.sendRaw(bytes);
  }

  /**
   * Sends pre-encoded messages (UPDATEs, and the RIB's RFC 7313 BoRR/EoRR) in
   * one socket write; false when not up or backpressured. Counted per message.
   */
  sendRawMany(messages: readonly Buffer[]): boolean {
    const conn = this.establishedConn();
    if (!conn || conn.closed) return false;
    for (const m of messages) countMessages(this.messages.sent, m); // BoRR/EoRR are ROUTE-REFRESH (sent-counts.ts)
    return conn.sendRawMany(messages);
  }

  /** Sends a ROUTE-REFRESH request (RFC 2918 §3) when the peer negotiated it. */
  sendRouteRefresh(refresh: RouteRefreshMessage): boolean {
    const conn = this.establishedConn();
    if (!conn || !this.negotiated?.routeRefresh) return false;
    if (conn.send(refresh)) this.messages.sent['route-refresh']++;
    return true;
  }

  /** The current connection of the session, if any: who opened it and its endpoints. */
  transport(): { direction: 'inbound' | 'outbound'; local: string; localPort: number; remotePort: number } | undefined {
    const c = this.primary.conn;
    if (!c) return undefined;
    return { direction: c.direction, local: c.local, localPort: c.localPort, remotePort: c.socket.remotePort ?? 0 };
  }

  /** Connections currently open (2 while a collision is undecided). */
  get connectionCount(): number {
    return (this.primary.conn ? 1 : 0) + (this.secondary?.conn ? 1 : 0);
  }

  get writable(): boolean {
    return this.establishedConn()?.writable ?? false;
  }

  queueStats() {
    return this.establishedConn()?.queueStats();
  }

  /** An inbound TCP connection from this peer's address (RFC 4271 §6.8, §8.2.1.1). */
  acceptConnection(socket: Socket): void {
    const p = this.primary;
    const verdict = admitInbound({
      direction: p.conn?.direction ?? 'outbound',
      state: p.fsm.state,
      gracefulRestart: this.negotiated?.gracefulRestart ?? false,
    });
    if (verdict.type === 'reject') {
      this.opts.logger.info({ event: 'connection-rejected', remote: this.address, reason: `session is ${p.fsm.state}` }, 'connection rejected');
      if (verdict.notification) {
        socket.on('error', () => {});
        socket.end(encodeNotification(verdict.notification));
        this.opts.clock.after(1000, () => socket.destroy());
      } else socket.destroy();
      return;
    }
    if (verdict.type === 'accept' && p.fsm.state === 'Active' && !p.conn && !p.pending) {
      // No connection and no attempt under way: the chain takes this one (event 17).
      // In Connect our own attempt is in flight, so the inbound one runs beside it
      // and collision resolution decides once an OPEN arrives.
      this.attach(p, socket, 'inbound');
      this.feed(p, { type: 'TcpConnectionConfirmed' });
      return;
    }
    // A second connection: its own chain, promoted at once when it replaces the first.
    const replace = verdict.type === 'replace-existing' || p.conn?.direction === 'inbound';
    if (this.secondary) discardChain(this.secondary);
    const c = newChain();
    this.secondary = c;
    this.feed(c, { type: 'ManualStart', passive: true });
    this.attach(c, socket, 'inbound');
    this.feed(c, { type: 'TcpConnectionConfirmed' });
    if (replace) {
      // RFC 4724 §4.2 (or a peer that reconnected): the old connection is dead; no NOTIFICATION.
      p.conn?.destroy();
      p.conn = undefined;
      p.closeDetail = 'replaced by a new connection from the peer';
      this.feed(p, { type: 'TcpConnectionFails' });
    }
  }

  // ------------------------------------------------------------ FSM driving

  private feed(chain: Chain, event: FsmEvent): void {
    this.queue.push({ chain, event });
    if (this.running) return;
    this.running = true;
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        if (item.chain.discarded) continue;
        this.apply(item.chain, item.event);
      }
    } finally {
      this.running = false;
    }
  }

  private apply(chain: Chain, event: FsmEvent): void {
    let result;
    try {
      result = step(chain.fsm, event, this.fsmConfig);
    } catch (err) {
      this.opts.logger.error({ event: 'fsm-error', ...this.who, err: (err as Error).message, fsmEvent: event.type }, 'FSM step failed');
      chain.conn?.destroy();
      return;
    }
    chain.fsm = result.state;
    for (const a of result.actions) this.execute(chain, a);
    this.settle();
  }

  /** After each step: retire an idle second chain, promote a survivor, report state changes. */
  private settle(): void {
    const s = this.secondary;
    if (s && s.fsm.state === 'Idle') {
      discardChain(s);
      this.secondary = undefined;
    } else if (s && !this.primary.conn && !this.primary.pending) {
      // The first chain has no connection left (collision, failure, replaced): the second leads.
      this.promote(s);
    }
    this.reportState();
  }

  /** Makes the second chain the session's; active again unless the peer is configured passive. */
  private promote(s: Chain): void {
    discardChain(this.primary);
    s.fsm = { ...s.fsm, passive: this.fsmConfig.passive };
    this.primary = s;
    this.secondary = undefined;
  }

  private reportState(): void {
    const now = this.primary.fsm.state;
    if (now === this.reported) return;
    const from = this.reported;
    this.reported = now;
    logStateChange(this.opts.logger, this.who, from, now);
    this.emit('state', from, now);
  }

  private execute(chain: Chain, a: FsmAction): void {
    switch (a.type) {
      case 'connect':
        return this.connect(chain);
      case 'send': {
        if (chain.conn?.send(a.message)) this.messages.sent[a.message.type]++;
        if (a.message.type === 'notification') {
          logNotification(this.opts.logger, this.who, 'sent', a.message);
          this.emit('notification-sent', a.message);
        }
        return;
      }
      case 'start-timer': {
        chain.timers.get(a.timer)?.cancel();
        const handle = this.opts.clock.after(a.ms, () => {
          if (chain.timers.get(a.timer) !== handle) return;
          chain.timers.delete(a.timer);
          this.guard(() => this.feed(chain, TIMER_EVENTS[a.timer]));
        });
        chain.timers.set(a.timer, handle);
        return;
      }
      case 'stop-timer':
        chain.timers.get(a.timer)?.cancel();
        chain.timers.delete(a.timer);
        return;
      case 'close':
        return this.closeTransport(chain);
      case 'established':
        if (chain === this.secondary) {
          // The second connection got there first; the first one (still opening) is dropped.
          this.promote(chain);
          this.reportState();
        }
        chain.conn?.setCodec(a.session.codec);
        this.negotiated = a.session;
        this.establishedAt = this.opts.clock.now();
        logEstablished(this.opts.logger, this.who, a.session);
        this.emit('established', a.session);
        return;
      case 'session-down':
        return this.down(chain, a);
      case 'deliver':
        if (a.message.type === 'route-refresh') this.emit('route-refresh', a.message);
        else this.emit('update', this.decoded.get(a.message) ?? { type: 'update', update: a.message, discarded: [] });
        return;
    }
  }

  private down(chain: Chain, a: Extract<FsmAction, { type: 'session-down' }>): void {
    const detail = chain.closeDetail;
    chain.closeDetail = undefined;
    const lead = chain === this.primary && !(this.secondary && a.reason === 'collision');
    const fields = { event: 'session-down', ...this.who, reason: a.reason, ...(detail ? { detail } : {}) };
    if (!lead) {
      this.opts.logger.debug({ ...fields, event: 'connection-down' }, 'second connection closed');
      return;
    }
    this.opts.logger.info({ ...fields, wasEstablished: a.wasEstablished }, `session down: ${a.reason}`);
    if (a.wasEstablished) this.negotiated = undefined;
    this.emit('down', {
      reason: a.reason,
      wasEstablished: a.wasEstablished,
      ...(a.notification ? { notification: a.notification } : {}),
      ...(detail ? { detail } : {}),
    });
  }

  // ------------------------------------------------------------ transport

  private connect(chain: Chain): void {
    if (chain !== this.primary || chain.conn) return;
    chain.pending?.cancel();
    const o = this.opts;
    chain.pending = connectPeer(
      {
        host: o.address,
        port: o.port,
        timeoutMs: o.connectTimeoutMs ?? 30_000,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        ...(o.security ? { security: o.security } : {}),
      },
      o.clock,
      (r) =>
        this.guard(() => {
          chain.pending = undefined;
          if (!r.ok) {
            // MD5 / GTSM that cannot be applied: an error, and no unprotected connection (fail closed)
            if (r.security) o.logger.error({ event: 'security-error', ...this.who, reason: r.reason }, `transport security: ${r.reason}`);
            else o.logger.debug({ event: 'connect-failed', ...this.who, reason: r.reason }, 'connect failed');
            this.feed(chain, { type: 'TcpConnectionFails' });
            return;
          }
          if (chain.discarded || chain.conn || chain.fsm.state !== 'Connect') {
            r.socket.destroy(); // superseded, e.g. by an inbound connection
            return;
          }
          this.attach(chain, r.socket, 'outbound');
          this.feed(chain, { type: 'TcpCRAcked' });
        }),
    );
  }

  private attach(chain: Chain, socket: Socket, direction: 'inbound' | 'outbound'): void {
    const conn = new Connection(socket, direction, this.opts.clock, {
      onMessage: (r, type) => this.guard(() => this.onMessage(chain, conn, r, type)),
      onFramingError: (e) => this.guard(() => this.onError(chain, conn, e, { type: 'BGPHeaderErr', error: e })),
      onClosed: (reason) =>
        this.guard(() => {
          if (chain.conn !== conn) return;
          chain.conn = undefined;
          chain.closeDetail = reason;
          this.feed(chain, { type: 'TcpConnectionFails' });
        }),
      onWritable: () => {
        if (chain === this.primary && chain.fsm.state === 'Established') this.emit('writable');
      },
    });
    chain.conn = conn;
  }

  private closeTransport(chain: Chain): void {
    chain.pending?.cancel();
    chain.pending = undefined;
    const conn = chain.conn;
    chain.conn = undefined;
    if (!conn) return;
    const p = conn.close();
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }


  private onError(chain: Chain, conn: Connection, e: WireError, event: FsmEvent): void {
    if (chain.conn !== conn) return;
    logMessageError(this.opts.logger, this.who, e);
    this.feed(chain, event);
  }

  private onMessage(chain: Chain, conn: Connection, r: Decoded<InboundMessage>, type: number): void {
    if (chain.conn !== conn) return;
    const name = TYPE_NAMES[type];
    if (name) this.messages.received[name]++;
    if (!r.ok) {
      return this.onError(chain, conn, r.error, decodeErrorEvent(r.error, type));
    }
    const m = r.value;
    switch (m.type) {
      case 'open':
        return this.onOpen(chain, m);
      case 'notification':
        logNotification(this.opts.logger, this.who, 'received', m);
        this.emit('notification-received', m);
        return this.feed(chain, { type: 'NotifMsg', notification: m });
      case 'keepalive':
        return this.feed(chain, { type: 'KeepAliveMsg' });
      case 'route-refresh':
        return this.feed(chain, { type: 'RouteRefreshMsg', refresh: m });
      case 'update':
        if (chain.fsm.state === 'Established') logUpdate(this.opts.logger, this.who, m);
        this.decoded.set(m.update, m);
        return this.feed(chain, { type: 'UpdateMsg', update: m.update });
    }
  }

  /** RFC 4271 §6.8: before an OPEN is fed, decide a collision with the other connection. */
  private onOpen(chain: Chain, open: OpenMessage): void {
    const other = chain === this.primary ? this.secondary : this.primary;
    const loser = other && collisionLoser(chain, other, open, this.fsmConfig.local);
    if (loser) this.feed(loser, { type: 'OpenCollisionDump' });
    if (loser !== chain) this.feed(chain, { type: 'BGPOpen', open });
  }

  private establishedConn(): Connection | undefined {
    return this.primary.fsm.state === 'Established' ? this.primary.conn : undefined;
  }

  /** Runs a callback from a socket or timer; an exception is logged and resets the session. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ event: 'session-error', ...this.who, err: (err as Error).stack }, 'session handler failed');
      this.queue = [];
      this.running = false;
      for (const c of [this.primary, this.secondary]) {
        if (!c?.conn) continue;
        c.conn.destroy();
        c.conn = undefined;
        c.closeDetail = 'internal error';
        try {
          this.feed(c, { type: 'TcpConnectionFails' });
        } catch {
          discardChain(c); // give up on this connection's FSM rather than crash
        }
      }
    }
  }
}
