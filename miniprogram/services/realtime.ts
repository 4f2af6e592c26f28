/**
 * Group realtime for the mini-program and H5: a WebSocket to /api/v1/ws?token=… (wx.connectSocket
 * cannot set headers); when it cannot connect or drops, polling every few seconds stands in
 * (the page passes a poll function), and the socket is retried with backoff.
 *
 * When the BFF ends the socket on purpose (WS_CLOSE: the session ended — logout elsewhere, expiry,
 * staff account disabled — or the staff member's roles/areas changed), nothing is retried or
 * polled: the session is dropped and the user is sent to the login page.
 */
import Taro from '@tarojs/taro';
import { WS_CLOSE } from '@heat-butler/shared';
import { API_PREFIX, clearSession, getSessionKind, getToken } from './api';
import { nav, PAGES } from './pages';

const ENDED_TEXT: Record<number, string> = {
  [WS_CLOSE.SESSION_ENDED]: '登录已失效，请重新登录',
  [WS_CLOSE.NOT_ALLOWED]: '您的权限已变更，请重新登录',
};

/** The BFF ended this session's socket: drop the session and go to the login page. */
function sessionEnded(code: number): void {
  const staff = getSessionKind() === 'staff';
  clearSession();
  Taro.showToast({ title: ENDED_TEXT[code] ?? ENDED_TEXT[WS_CLOSE.SESSION_ENDED], icon: 'none', duration: 2500 });
  void nav.relaunch(staff ? PAGES.staffLogin : PAGES.login);
}

export interface LiveOptions {
  onFrame: (frame: any) => void;
  /** the polling fallback (e.g. GET messages?after=<last id>) */
  poll: () => Promise<void>;
  pollMs?: number;
}

/** The stop functions of every open live connection (pages in the stack may each hold one). */
const live = new Set<() => void>();

/** Stop every live connection (before logging out, so its close isn't taken for a session ended elsewhere). */
export function stopAllLive(): void {
  for (const stop of [...live]) stop();
}

export function connectLive(opts: LiveOptions): () => void {
  let closed = false;
  let socket: Taro.SocketTask | null = null;
  let pollTimer: ReturnType<typeof setInterval> | null = null;
  let retry = 1000;
  const startPolling = () => {
    if (pollTimer || closed) return;
    pollTimer = setInterval(() => void opts.poll().catch(() => undefined), opts.pollMs ?? 5000);
  };
  const stopPolling = () => {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  };
  const open = async () => {
    const token = getToken();
    if (!token || closed) return;
    // H5 is served by the BFF itself (API_BASE is ''): same origin
    const base = API_BASE || (typeof location !== 'undefined' ? location.origin : '');
    const url = `${base.replace(/^http/, 'ws')}${API_PREFIX}/ws?token=${token}`;
    try {
      const task = await Taro.connectSocket({ url });
      socket = task;
      task.onOpen(() => {
        retry = 1000;
        stopPolling();
        void opts.poll().catch(() => undefined); // catch up on what was missed while offline
      });
      // the BFF says why it closes in a last frame too (Taro's H5 socket doesn't pass the close code on)
      let endedCode = 0;
      task.onMessage((m) => {
        try {
          const frame = JSON.parse(String(m.data));
          if (frame?.type === 'closing') endedCode = Number(frame.code) || 0;
          else opts.onFrame(frame);
        } catch {
          /* ignore */
        }
      });
      const lost = (res?: { code?: number }) => {
        socket = null;
        if (closed) return;
        const code = endedCode || res?.code;
        if (code === WS_CLOSE.SESSION_ENDED || code === WS_CLOSE.NOT_ALLOWED) {
          // this page's and every other page's live connection stop: no retries, no polling
          stopAllLive();
          sessionEnded(code);
          return;
        }
        startPolling();
        // an instance shutting down: back soon, spread out so that clients don't all arrive at once
        if (res?.code === WS_CLOSE.RESTARTING) setTimeout(() => void open(), 500 + Math.random() * 2500);
        else setTimeout(() => void open(), (retry = Math.min(retry * 2, 30_000)));
      };
      task.onClose(lost);
      task.onError(() => undefined);
    } catch {
      startPolling();
      setTimeout(() => void open(), (retry = Math.min(retry * 2, 30_000)));
    }
  };
  startPolling();
  void open();
  const stop = () => {
    closed = true;
    live.delete(stop);
    stopPolling();
    socket?.close({});
  };
  live.add(stop);
  return stop;
}
