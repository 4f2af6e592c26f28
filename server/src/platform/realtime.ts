/**
 * Realtime push over WebSocket (`ws`), attached to the BFF's own http server at
 * /api/v1/ws?token=<session token> (a mini-program's wx.connectSocket cannot set headers). A connection subscribes to topics (e.g. `group:12`,
 * `area:3`) given by a provider the modules register; `publish(topic, event)` fans one
 * serialised frame out to every local socket of the topic. With REDIS_URL every publish goes
 * through one Redis pub/sub channel so that all instances deliver it; without it, in-process.
 *
 * A socket lives no longer than its session: `end()` closes the sockets of a session or a
 * principal on every instance (logout, staff disabled, roles or areas changed) with a close code
 * from WS_CLOSE, and every open socket's token is checked again each minute, so an expired,
 * revoked or re-scoped session's socket closes too.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { WS_CLOSE } from '@heat-butler/shared';
import type { AuthPrincipal } from './auth';
import type { Logger } from './logger';
import { jsonBytes } from './http';
import { wsConnections } from './metrics';

export const REALTIME_PATH = '/api/v1/ws';
const CHANNEL = 'hb:realtime';

/** How often every open socket's token is checked again. */
export const RECHECK_MS = 60_000;
/** The largest frame a client may send: the only client frame is a short application-level ping. */
export const WS_MAX_PAYLOAD = 1024;

type CloseCode = (typeof WS_CLOSE)[keyof typeof WS_CLOSE];

type Envelope =
  | { t: 'event'; topic: string; event: Record<string, unknown> }
  | { t: 'subscribe'; key: string; topic: string; on: boolean }
  | { t: 'close'; sessionId: number; code: CloseCode }
  | { t: 'recheck'; key: string };

interface Conn {
  ws: WebSocket;
  key: string;
  sessionId: number;
  token: string;
  /** what decides the topics of a staff socket (roles and areas) when it opened */
  scope: string;
  topics: Set<string>;
  alive: boolean;
}

export const principalKey = (p: AuthPrincipal) => (p.kind === 'resident' ? `r:${p.residentId}` : `s:${p.staffId}`);
const scopeOf = (p: AuthPrincipal) => (p.kind === 'resident' ? '' : `${[...p.roles].sort().join(',')}|${[...p.areaIds].sort((a, b) => a - b).join(',')}`);
const CLOSE_REASON: Record<CloseCode, string> = {
  [WS_CLOSE.SESSION_ENDED]: 'session ended',
  [WS_CLOSE.NOT_ALLOWED]: 'no longer allowed',
  [WS_CLOSE.RESTARTING]: 'server restarting',
};

export class RealtimeHub {
  /** clients only ever send tiny control frames (pings): anything larger closes the socket (1009) */
  private wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: WS_MAX_PAYLOAD });
  private byTopic = new Map<string, Set<Conn>>();
  private byKey = new Map<string, Set<Conn>>();
  private pub: any = null;
  private sub: any = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private rechecker: NodeJS.Timeout | null = null;
  private rechecking = false;
  private authenticate: (token: string) => Promise<AuthPrincipal | 'expired' | null> = async () => null;
  private topicsFor: (p: AuthPrincipal) => Promise<string[]> = async () => [];

  constructor(
    private log: Logger,
    private redisUrl?: string,
    private recheckMs = RECHECK_MS,
  ) {}

  get connections(): number {
    return this.wss.clients.size;
  }

  setAuthenticator(fn: (token: string) => Promise<AuthPrincipal | 'expired' | null>): void {
    this.authenticate = fn;
  }

  /** The topics a principal's connection listens to (called once per connection). */
  setTopicProvider(fn: (p: AuthPrincipal) => Promise<string[]>): void {
    this.topicsFor = fn;
  }

  async start(): Promise<void> {
    if (this.redisUrl && !this.sub) {
      const { default: Redis } = await import('ioredis');
      this.pub = new Redis(this.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
      this.sub = new Redis(this.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
      for (const c of [this.pub, this.sub]) c.on('error', (err: Error) => this.log.warn({ err: { message: err.message } }, 'redis error'));
      await this.sub.subscribe(CHANNEL);
      this.sub.on('message', (_channel: string, raw: string) => {
        try {
          this.deliver(JSON.parse(raw) as Envelope);
        } catch (err: any) {
          this.log.warn({ err: { message: err?.message } }, 'bad realtime envelope');
        }
      });
    }
    this.heartbeat ??= setInterval(() => {
      for (const ws of this.wss.clients) {
        const conn = (ws as any).__conn as Conn | undefined;
        if (!conn) continue;
        if (!conn.alive) {
          ws.terminate();
          continue;
        }
        conn.alive = false;
        ws.ping();
      }
    }, 30_000);
    this.heartbeat.unref();
    this.rechecker ??= setInterval(() => void this.recheck(), this.recheckMs);
    this.rechecker.unref();
  }

  /**
   * Check every open socket's token again: a session that ended (revoked, expired, staff
   * disabled) closes with SESSION_ENDED, a staff member whose roles or areas changed with
   * NOT_ALLOWED. Runs every RECHECK_MS (all sockets); tests call it directly. With `key`, only
   * that principal's sockets on this instance.
   */
  async recheck(key?: string): Promise<void> {
    if (!key && this.rechecking) return;
    if (!key) this.rechecking = true;
    try {
      const conns = key ? [...(this.byKey.get(key) ?? [])] : [...this.wss.clients].map((ws) => (ws as any).__conn as Conn | undefined);
      for (const conn of conns) {
        if (!conn || conn.ws.readyState !== WebSocket.OPEN) continue;
        let p: AuthPrincipal | 'expired' | null;
        try {
          p = await this.authenticate(conn.token);
        } catch (err: any) {
          // the database is unreachable: keep the socket, check again next round
          this.log.warn({ err: { message: err?.message } }, 'realtime recheck failed');
          continue;
        }
        if (!p || p === 'expired' || p.sessionId !== conn.sessionId) this.closeConn(conn, WS_CLOSE.SESSION_ENDED);
        else if (scopeOf(p) !== conn.scope) this.closeConn(conn, WS_CLOSE.NOT_ALLOWED);
      }
    } finally {
      if (!key) this.rechecking = false;
    }
  }

  private sessionEndListeners: ((sessionId: number) => void)[] = [];

  /** Called on every instance when a session ends anywhere (endSession): caches of it are dropped. */
  onSessionEnded(fn: (sessionId: number) => void): void {
    this.sessionEndListeners.push(fn);
  }

  /** Close the sockets of one session on every instance, with a code the client understands. */
  endSession(sessionId: number, code: CloseCode = WS_CLOSE.SESSION_ENDED): void {
    this.emit({ t: 'close', sessionId, code });
  }

  /**
   * A principal's account changed (disabled, roles or areas): check their sockets' tokens again
   * on every instance now, rather than at the next round.
   */
  recheckPrincipal(key: string): void {
    this.emit({ t: 'recheck', key });
  }

  private closeConn(conn: Conn, code: CloseCode): void {
    this.dropConn(conn);
    if (conn.ws.readyState === WebSocket.OPEN) {
      // the code also as a last frame: Taro's H5 SocketTask doesn't pass the close code on
      conn.ws.send(JSON.stringify({ type: 'closing', code }));
      conn.ws.close(code, CLOSE_REASON[code]);
    }
    // a client that never answers the close handshake is cut off
    setTimeout(() => conn.ws.terminate(), 5000).unref();
  }

  /** Forget a connection's topics at once, so nothing more is delivered to it. */
  private dropConn(conn: Conn): void {
    for (const t of conn.topics) this.byTopic.get(t)?.delete(conn);
    conn.topics.clear();
    this.byKey.get(conn.key)?.delete(conn);
    if (this.byKey.get(conn.key)?.size === 0) this.byKey.delete(conn.key);
  }

  /** Accept WebSocket upgrades on REALTIME_PATH of this http server. */
  attach(server: http.Server): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== REALTIME_PATH) {
        // another handler may own this path (e.g. a dev server); otherwise nobody answers
        if (server.listenerCount('upgrade') <= 1) socket.destroy();
        return;
      }
      const token = url.searchParams.get('token') ?? '';
      socket.on('error', () => socket.destroy());
      (/^[A-Za-z0-9_\-]{20,200}$/.test(token) ? this.authenticate(token) : Promise.resolve(null))
        .then(async (p) => {
          if (!p || p === 'expired') {
            socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
            return;
          }
          const topics = await this.topicsFor(p);
          this.wss.handleUpgrade(req, socket, head, (ws) => this.register(ws, p, token, topics));
        })
        .catch((err) => {
          this.log.warn({ err: { message: err?.message } }, 'realtime upgrade failed');
          socket.destroy();
        });
    });
  }

  private register(ws: WebSocket, p: AuthPrincipal, token: string, topics: string[]): void {
    const key = principalKey(p);
    const conn: Conn = { ws, key, sessionId: p.sessionId, token, scope: scopeOf(p), topics: new Set(), alive: true };
    (ws as any).__conn = conn;
    for (const t of topics) this.addTopic(conn, t);
    let k = this.byKey.get(key);
    if (!k) this.byKey.set(key, (k = new Set()));
    k.add(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data) => {
      // the only client frame: an application-level ping
      if (String(data) === 'ping') ws.send('{"type":"pong"}');
    });
    wsConnections.inc();
    ws.on('close', () => {
      wsConnections.dec();
      this.dropConn(conn);
    });
    ws.on('error', () => ws.terminate());
    ws.send(JSON.stringify({ type: 'ready', topics }));
  }

  private addTopic(conn: Conn, topic: string): void {
    conn.topics.add(topic);
    let set = this.byTopic.get(topic);
    if (!set) this.byTopic.set(topic, (set = new Set()));
    set.add(conn);
  }

  private deliver(env: Envelope): void {
    if (env.t === 'close') {
      for (const fn of this.sessionEndListeners) fn(env.sessionId);
      for (const ws of this.wss.clients) {
        const conn = (ws as any).__conn as Conn | undefined;
        if (conn?.sessionId === env.sessionId) this.closeConn(conn, env.code);
      }
      return;
    }
    if (env.t === 'recheck') {
      void this.recheck(env.key);
      return;
    }
    if (env.t === 'subscribe') {
      for (const conn of this.byKey.get(env.key) ?? []) {
        if (env.on) this.addTopic(conn, env.topic);
        else {
          conn.topics.delete(env.topic);
          this.byTopic.get(env.topic)?.delete(conn);
        }
      }
      return;
    }
    const set = this.byTopic.get(env.topic);
    if (!set?.size) return;
    // encoded once for all the topic's sockets, sent as text frames: ws given a string measures
    // and Node encodes it again for each socket (the messages are Chinese: a two-byte string)
    const frame = jsonBytes({ ...env.event, topic: env.topic });
    for (const conn of set) if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(frame, { binary: false });
  }

  private emit(env: Envelope): void {
    if (this.pub) {
      this.pub.publish(CHANNEL, JSON.stringify(env)).catch((err: Error) => this.log.warn({ err: { message: err.message } }, 'redis publish failed'));
    } else this.deliver(env);
  }

  publish(topic: string, event: Record<string, unknown>): void {
    this.emit({ t: 'event', topic, event });
  }

  /** Add/remove a topic on every open connection of a principal (on every instance). */
  subscribe(key: string, topic: string, on = true): void {
    this.emit({ t: 'subscribe', key, topic, on });
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.rechecker) clearInterval(this.rechecker);
    this.heartbeat = this.rechecker = null;
    // 1012 "service restart": the client reconnects soon (to another instance); cut whoever doesn't answer
    const sockets = [...this.wss.clients];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            const cut = setTimeout(() => ws.terminate(), 1_000);
            ws.once('close', () => {
              clearTimeout(cut);
              resolve();
            });
            ws.close(WS_CLOSE.RESTARTING, CLOSE_REASON[WS_CLOSE.RESTARTING]);
          }),
      ),
    );
    await new Promise<void>((r) => this.wss.close(() => r()));
    for (const c of [this.sub, this.pub]) if (c) await c.quit().catch(() => c.disconnect());
    this.pub = this.sub = null;
  }
}
