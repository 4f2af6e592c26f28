/**
 * Protocol-faithful local simulators of WeChat, on loopback, for sandbox mode and tests. Never
 * mounted in production mode. The app sees paths without a prefix: the BFF mounts it at
 * /sandbox; tests may run it standalone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { miniProgramRoutes } from './miniprogram';

export interface SandboxOptions {
  appid: string;
  secret: string;
  mchid: string;
  /** exactly 32 ASCII characters */
  apiV3Key: string;
  now?: () => Date;
  /** delays between notification attempts; default WeChat's schedule */
  notifyRetryScheduleMs?: number[];
}

export interface SubscribeRecord {
  openid: string;
  templateId: string;
  page: string | null;
  data: Record<string, { value: string }>;
  errcode: number;
  at: string;
}

/** In-memory records of everything the simulated WeChat saw and did. */
export interface SandboxState {
  codes: Map<string, { user: string; openid: string; issuedAt: number; usedAt: number | null }>;
  loginCalls: Map<string, number[]>;
  accessTokens: Map<string, number>;
  /** `${openid}|${templateId}` -> remaining one-time grants */
  grants: Map<string, number>;
  subscribeMessages: SubscribeRecord[];
}

export interface Sandbox {
  app: Koa;
  state: SandboxState;
  close(): Promise<void>;
}

export function createSandbox(opts: SandboxOptions): Sandbox {
  const state: SandboxState = {
    codes: new Map(),
    loginCalls: new Map(),
    accessTokens: new Map(),
    grants: new Map(),
    subscribeMessages: [],
  };
  const app = new Koa();
  app.silent = true;
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb' }));
  const mini = miniProgramRoutes(opts, state);
  app.use(mini.routes());
  app.use(mini.allowedMethods());
  const closers: (() => Promise<void> | void)[] = [];
  return {
    app,
    state,
    async close() {
      for (const c of closers) await c();
    },
  };
}

export async function startSandbox(opts: SandboxOptions & { port?: number }) {
  const sandbox = createSandbox(opts);
  const server = http.createServer(sandbox.app.callback());
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state: sandbox.state,
    async close() {
      await sandbox.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
