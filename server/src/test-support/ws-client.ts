import WebSocket from 'ws';

/** A realtime socket client for tests: keeps every frame, can wait for one, and reports its close. */
export interface SocketClient {
  ws: WebSocket;
  frames: any[];
  /** frames that came as binary (the mini-program's onSocketMessage would get an ArrayBuffer, not text) */
  binary: number;
  closed: Promise<{ code: number; reason: string }>;
  /** The first frame (already received or still to come) that matches, within `ms`. */
  next(pred: (f: any) => boolean, ms?: number): Promise<any>;
  close(): void;
}

/** Open `/api/v1/ws` on the BFF at `baseUrl` with a session token; resolves once the server says ready. */
export async function connectSocket(baseUrl: string, token: string): Promise<SocketClient> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws?token=${token}`);
  const frames: any[] = [];
  const waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  let binary = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) binary++;
    const f = JSON.parse(String(data));
    frames.push(f);
    for (const w of [...waiters]) if (w.pred(f)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(f));
  });
  const next = (pred: (f: any) => boolean, ms = 3000) =>
    new Promise<any>((resolve, reject) => {
      const hit = frames.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error('no frame in time')), ms);
      waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  await next((f) => f.type === 'ready');
  return {
    ws,
    frames,
    get binary() {
      return binary;
    },
    closed,
    next,
    close: () => ws.close(),
  };
}
