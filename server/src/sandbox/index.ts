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
import { createPaySimulator, type PaySimulatorState } from './pay';
import { createEInvoiceSimulator, type EInvoiceState } from './einvoice';
import { createSecuritySimulator, type SecurityState } from './security';

export { SANDBOX_KEY_PATHS, sandboxKeys, sandboxPayCredentials, type SandboxKeys } from './keys';
export { openidFor } from './miniprogram';
export { SANDBOX_RISKY_TEXT, SANDBOX_REVIEW_TEXT, SANDBOX_RISKY_IMAGE, SANDBOX_REVIEW_IMAGE, type MediaCheck } from './security';
export {
  WECHAT_NOTIFY_RETRY_SCHEDULE_MS,
  type PayOrder,
  type PayRefund,
  type NotificationAttempt,
  type NotificationEvent,
  type BuildNotificationInput,
  type BuiltNotification,
  type TradeState,
} from './pay';

export interface SandboxOptions {
  appid: string;
  secret: string;
  mchid: string;
  /** exactly 32 ASCII characters */
  apiV3Key: string;
  now?: () => Date;
  /** delays between notification attempts; default WeChat's schedule */
  notifyRetryScheduleMs?: number[];
  /** how long a refund stays PROCESSING before SUCCESS + notification; default 3000 ms */
  refundSuccessDelayMs?: number;
  /** the merchant certificate requests are verified with; default the sandbox key (keys/) */
  merchantCertPem?: string;
  /** the platform key responses and notifications are signed with; default the sandbox key */
  platformKeyPem?: string;
  /** `Wechatpay-Serial` to announce: default the platform cert serial; `PUB_KEY_ID_…` = public-key mode */
  platformSerial?: string;
  /** serve a day's trade bill at once (tests, demo); default like WeChat: the next day from 10:00 */
  instantBills?: boolean;
  /** how long a 'timeout' fault of the e-invoice provider hangs; default 15 s */
  einvoiceTimeoutMs?: number;
  /** subscription templates the mini-program "applied for": other ids get 40037 / 20001; unset = any id */
  templates?: string[];
  /** the mini-program's message push (消息推送): where content-security verdicts are pushed */
  messagePush?: { url: string; token: string; aesKey?: string };
  /** how long mediaCheckAsync takes before it pushes its verdict; default 50 ms */
  mediaCheckDelayMs?: number;
}

export interface SubscribeRecord {
  openid: string;
  templateId: string;
  page: string | null;
  data: Record<string, { value: string }>;
  /** miniprogram_state as sent (developer | trial | formal) */
  state: string;
  errcode: number;
  at: string;
}

/** In-memory records of everything the simulated WeChat saw and did, plus test/demo helpers. */
export interface SandboxState extends PaySimulatorState {
  codes: Map<string, { user: string; openid: string; issuedAt: number; usedAt: number | null }>;
  loginCalls: Map<string, number[]>;
  accessTokens: Map<string, number>;
  /** the current stable access token (getStableAccessToken), and every call for it */
  stableToken: string | null;
  stableTokenCalls: { force: boolean; at: number }[];
  /** `${openid}|${templateId}` -> remaining one-time grants */
  grants: Map<string, number>;
  subscribeMessages: SubscribeRecord[];
  /** the e-invoice provider's records and fault switches */
  einvoice: EInvoiceState;
  /** content security: text checks, media checks and their pushes */
  security: SecurityState;
  /** mail the BFF sent in sandbox mode (no SMTP server) */
  mailbox: SandboxMail[];
}

export interface SandboxMail {
  to: string;
  subject: string;
  text: string;
  attachments: { filename: string; size: number }[];
  at: string;
}

export interface Sandbox {
  app: Koa;
  state: SandboxState;
  close(): Promise<void>;
}

export function createSandbox(opts: SandboxOptions): Sandbox {
  const pay = createPaySimulator(opts);
  const einvoice = createEInvoiceSimulator({ timeoutMs: opts.einvoiceTimeoutMs });
  const accessTokens = new Map<string, number>();
  const security = createSecuritySimulator(opts, accessTokens);
  const state: SandboxState = {
    security: security.state,
    einvoice: einvoice.state,
    mailbox: [],
    codes: new Map(),
    loginCalls: new Map(),
    accessTokens,
    stableToken: null,
    stableTokenCalls: [],
    grants: new Map(),
    subscribeMessages: [],
    ...pay.state,
  };
  const app = new Koa();
  app.silent = true;
  // WeChat Pay verifies signatures over the raw body: /v3 reads it itself
  app.use((ctx, next) => {
    if (ctx.path.startsWith('/v3/')) ctx.disableBodyParser = true;
    return next();
  });
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb' }));
  app.use(pay.middleware);
  const mini = miniProgramRoutes(opts, state);
  app.use(mini.routes());
  app.use(mini.allowedMethods());
  app.use(security.routes.routes());
  app.use(einvoice.routes.routes());
  app.use(pay.routes.routes());
  app.use(pay.routes.allowedMethods());
  const closers: (() => Promise<void> | void)[] = [() => pay.close(), () => security.close()];
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
