/**
 * Start the whole BFF: config, database (migrations), services, outbox worker, HTTP server,
 * and in sandbox mode the WeChat simulator mounted at /sandbox. Used by main.ts, the e2e tests
 * and the integration tests alike.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { einvoiceTaxNumber, loadConfig, templateIds, type Config } from './config';
import { createLogger, type Logger } from './platform/logger';
import { createDataSource } from './db';
import { createApp, createServices, type Services } from './app';
import { createMiniProgramClient } from './wechat/miniprogram';
import { dbTokenStore } from './wechat/token-store';
import fs from 'node:fs';
import { createSandbox, sandboxPayCredentials, type SandboxMail } from './sandbox';
import { createPayClient, type PlatformCert } from './wechat/pay';
import { createNuonuoClient } from './invoicing/nuonuo';
import { createMailer } from './platform/mail';
import { answerClientErrors } from './platform/http';
import { seedDemo } from './demo/seed';
import { installDbLimits } from './platform/db/limits';
import { runMigrationsLocked } from './platform/db/data-source';
import { JobScheduler } from './platform/jobs';
import { setOutboxProbe } from './platform/metrics';
import { outboxDepth } from './platform/outbox';

export interface HostOptions {
  /** 0 = ephemeral */
  port?: number;
  /** mysql://… ; unset = embedded SQLite (config SQLITE_PATH, or sqlitePath) */
  databaseUrl?: string;
  sqlitePath?: string;
  /** mount the WeChat simulator at /sandbox and point the clients at it */
  sandbox?: boolean;
  /** serve this static folder (the H5 build) at / */
  h5Dir?: string;
  seedDemo?: boolean;
  /** with seedDemo: set up the next season too (npm start: its 报停/复供 window is open) */
  demoNextSeason?: boolean;
  /** tests: build the schema from the entities instead of running migrations */
  synchronize?: boolean;
  /** tests: a controllable clock */
  clock?: () => Date;
  /** sandbox: serve a day's trade bill at once instead of from 10:00 the next day (tests, demo) */
  instantBills?: boolean;
  /** tests: tune the simulators (e.g. how long an e-invoice timeout hangs) */
  sandboxOptions?: { einvoiceTimeoutMs?: number; refundSuccessDelayMs?: number; mediaCheckDelayMs?: number };
  /** run the outbox worker and the scheduled jobs (job_lease: sweep, escalation, reconciliation, retention) (default true) */
  outboxWorker?: boolean;
  config?: Partial<Config>;
  logger?: Logger;
}

export interface Host {
  url: string;
  config: Config;
  ds: DataSource;
  services: Services;
  sandbox: ReturnType<typeof createSandbox> | null;
  log: Logger;
  /** the scheduled jobs (started with the outbox worker; tests call jobs.tick(name)) */
  jobs: JobScheduler;
  /** graceful: see startHost */
  close(graceMs?: number): Promise<void>;
}

export async function startHost(opts: HostOptions = {}): Promise<Host> {
  const base = loadConfig(process.env, {
    ...(opts.config ?? {}),
    ...(opts.port !== undefined ? { PORT: opts.port } : {}),
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    ...(opts.sqlitePath ? { SQLITE_PATH: opts.sqlitePath } : {}),
    ...(opts.h5Dir ? { H5_DIR: opts.h5Dir } : {}),
    ...(opts.sandbox ? { HB_MODE: 'sandbox' as const } : {}),
  });
  const log = opts.logger ?? createLogger(base.LOG_LEVEL);
  const clock = opts.clock ?? (() => new Date());

  const ds = createDataSource({
    url: base.DATABASE_URL,
    sqlitePath: base.SQLITE_PATH,
    poolSize: base.DB_POOL_SIZE,
    synchronize: opts.synchronize,
    log,
  });
  await ds.initialize();
  if (!opts.synchronize) await runMigrationsLocked(ds);
  // after migrations (they may take long): from now on no request waits on the database for long
  installDbLimits(
    ds,
    { acquireTimeoutMs: base.DB_ACQUIRE_TIMEOUT_MS, queryTimeoutMs: base.DB_QUERY_TIMEOUT_MS, lockWaitSeconds: base.DB_LOCK_WAIT_SECONDS },
    log,
  );

  // The port is known before listening (PORT=0: a free one is reserved first), so that everything is
  // composed, seeded and attached before the first connection is accepted.
  const reserved = base.PORT ? null : await reservePort(base.HOST);
  const port = base.PORT || reserved!.port;
  const url = `http://${base.HOST}:${port}`;

  const sandboxMode = base.HB_MODE === 'sandbox';
  const config: Config = {
    ...base,
    PORT: port,
    PUBLIC_BASE_URL: base.PUBLIC_BASE_URL ?? url,
    WECHAT_API_BASE: base.WECHAT_API_BASE ?? (sandboxMode ? `${url}/sandbox` : undefined),
    WXPAY_API_BASE: base.WXPAY_API_BASE ?? (sandboxMode ? `${url}/sandbox` : undefined),
    EINVOICE_API_BASE: base.EINVOICE_API_BASE ?? (sandboxMode ? `${url}/sandbox/einvoice` : undefined),
  };
  const sandbox = sandboxMode
    ? createSandbox({
        appid: config.WECHAT_APPID,
        secret: config.WECHAT_SECRET,
        mchid: config.WXPAY_MCHID,
        apiV3Key: config.WXPAY_APIV3_KEY,
        instantBills: opts.instantBills,
        templates: Object.values(templateIds(config)),
        messagePush: { url: `${config.PUBLIC_BASE_URL}/api/v1/wechat/push`, token: config.WECHAT_PUSH_TOKEN, aesKey: config.WECHAT_PUSH_AES_KEY },
        ...opts.sandboxOptions,
      })
    : null;

  const clients = createClients(config, clock, sandbox?.state.mailbox, ds);
  const deps = { config, ds, log, clock, ...clients };
  const services = createServices(deps);
  if (opts.seedDemo) {
    const seeded = await seedDemo(services, clock(), { nextSeason: opts.demoNextSeason });
    if (seeded.created) log.info({ households: seeded.households }, 'demo company seeded');
  }
  await services.groups.ensureGroups();
  await services.realtime.start();
  const app = createApp(deps, services);
  const bff = app.callback();
  const sim = sandbox?.app.callback();
  let draining = false;
  /**
   * Once shutdown has begun, every answer written tells its client not to reuse the connection
   * (those in flight when it began included), checked as its head is written. Not by keeping each
   * answer in a set until it closed (a close listener each): with that, some 4 KB a request of
   * answers, requests, headers and rows survived into the old generation (0.2 KB without it,
   * --trace-gc-nvp under bench:bills), which doubled the scavenger's time per bill list request.
   */
  class Response extends http.ServerResponse {
    override writeHead(statusCode: number, ...rest: any[]): this {
      if (draining && !this.headersSent) this.setHeader('Connection', 'close');
      return (http.ServerResponse.prototype.writeHead as (this: http.ServerResponse, ...a: unknown[]) => this).call(this, statusCode, ...rest);
    }
  }
  const server = http.createServer({ ServerResponse: Response }, (req, res) => {
    if (draining) {
      // shutting down: finish this request, then close the connection; not ready for new work
      if (req.url === '/readyz') {
        res.writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        return res.end('{"ok":false,"draining":true}');
      }
    }
    if (sim && req.url && (req.url === '/sandbox' || req.url.startsWith('/sandbox/'))) {
      // the BFF's answers get theirs from securityHeaders(); the simulator's too, never sniffed
      res.setHeader('X-Content-Type-Options', 'nosniff');
      req.url = req.url.slice('/sandbox'.length) || '/';
      // simulators that hand out links (e-invoice PDFs) need to know where they are mounted
      req.headers['x-sandbox-base'] = '/sandbox';
      return sim(req, res);
    }
    return bff(req, res);
  });
  answerClientErrors(server);
  services.realtime.attach(server);
  try {
    await reserved?.release();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, base.HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await services.realtime.close();
    await sandbox?.close();
    await ds.destroy();
    throw err;
  }
  // scheduled jobs: each tick runs on one instance of all that share the database (job_lease);
  // shutdown waits for the run in progress
  const jobs = new JobScheduler(ds, log, clock);
  // a job's first tick on a new database comes one interval after start, as its later ones do
  const every = (name: string, ms: number, run: () => Promise<unknown>, leaseMs?: number) => {
    const everyMs = config.JOB_EVERY_MS[name] ?? ms;
    jobs.add({ name, everyMs, run, leaseMs, firstDelayMs: everyMs });
  };
  every('payment-sweep', 60_000, async () => {
    const s = await services.payments.sweep();
    if (s.credited || s.closed || s.refunds) log.info(s, 'payment sweep');
  });
  // repairs: escalate tickets past an SLA deadline (supervisor, then department head)
  every('repair-escalation', 60_000, async () => {
    const r = await services.repairs.escalateOverdue();
    if (r.escalated) log.info(r, 'repair escalation');
  });
  // repairs in grab mode: tickets nobody grabbed in time are auto-assigned (Harbin 003)
  every('repair-grab-fallback', 60_000, async () => {
    const r = await services.repairs.dispatchUngrabbed();
    if (r.assigned) log.info(r, 'repair grab fallback');
  });
  // complaints past their close or callback deadline: supervisor, then department head
  every('complaint-escalation', 60_000, async () => {
    const r = await services.complaints.escalateOverdue();
    if (r.escalated) log.info(r, 'complaint escalation');
  });
  // the watch program: first-day visits from the first heating day, re-measure tasks after cold fixes
  every('watch-tasks', 60_000, async () => {
    const r = await services.watch.run();
    if (r.visits || r.remeasures) log.info(r, 'watch tasks');
  });
  // reconcile yesterday from 10:00 China time; not-ready bills are retried by the day's nextAttemptAt
  every(
    'reconciliation',
    5 * 60_000,
    async () => {
      const r = await services.reconciliation.runScheduled(clock());
      if (r.outcome !== 'too_early' && r.outcome !== 'done' && r.outcome !== 'waiting') log.info(r, 'scheduled reconciliation');
    },
    60 * 60_000,
  );
  // uploads: photos past the company's retention rule and never-referenced uploads are removed
  every('upload-retention', 60 * 60_000, () => services.uploads.enforceRetention());
  // the outbox: done messages past OUTBOX_KEEP_DAYS deleted, or archived when a dedupe key guards them
  every('outbox-retention', 60 * 60_000, async () => {
    const r = await services.outbox.prune(config.OUTBOX_KEEP_DAYS);
    if (r.deleted || r.archived) log.info(r, 'outbox retention');
  });
  setOutboxProbe(() => outboxDepth(ds, clock));
  if (opts.outboxWorker !== false) {
    services.outbox.start();
    jobs.start(config.JOB_POLL_MS);
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    config,
    ds,
    services,
    sandbox,
    log,
    jobs,
    /**
     * Graceful shutdown: stop accepting connections, answer /readyz 503, let requests in flight
     * finish (their connections then close), close WebSockets with 1012 "service restart" (clients
     * reconnect, to another instance), let the outbox finish the jobs it claimed and the periodic
     * job in progress end, then close the database. After `graceMs` open connections are cut.
     */
    close(graceMs = base.SHUTDOWN_GRACE_MS) {
      closing ??= (async () => {
        draining = true;
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        // answers still being prepared tell their clients not to reuse the connection (Response);
        // keep-alive connections are closed as soon as they fall idle
        server.closeIdleConnections();
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        cut.unref();
        await Promise.all([services.realtime.close(), services.outbox.stop(), jobs.stop(), httpClosed]);
        clearInterval(idle);
        clearTimeout(cut);
        await sandbox?.close();
        if (ds.isInitialized) await ds.destroy();
      })();
      return closing;
    },
  };
}

/**
 * A free port for PORT=0 (tests and tools that run several BFFs), held until `release()`: a server
 * listens on it meanwhile and drops every connection at once (nobody knows the port yet). Picked and
 * let go at once, it stood free through the whole start-up (migrations, demo seed: seconds), and any
 * outgoing connection or listen(0) in the meantime could be given it by the kernel: an e2e run
 * failed with EADDRINUSE that way. Not kept alive by the reservation (unref) if start-up fails.
 */
export async function reservePort(host: string): Promise<{ port: number; release(): Promise<void> }> {
  const holder = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen(0, host, resolve);
  });
  holder.unref();
  const { port } = holder.address() as AddressInfo;
  return { port, release: () => new Promise<void>((resolve) => holder.close(() => resolve())) };
}

/**
 * The clients of the outside world for a config: WeChat mini-program API, WeChat Pay, the
 * e-invoice provider, mail. In sandbox mode they point at this server's /sandbox.
 */
export function createClients(config: Config, clock: () => Date = () => new Date(), mailbox?: SandboxMail[], ds?: DataSource) {
  const local = `http://${config.HOST}:${config.PORT}/sandbox`;
  return {
    wechat: createMiniProgramClient({
      baseUrl: config.WECHAT_API_BASE ?? local,
      appid: config.WECHAT_APPID,
      secret: config.WECHAT_SECRET,
      // the access token every instance shares (one refresher at a time), in the database
      tokenStore: ds ? dbTokenStore(ds, config.WECHAT_APPID) : undefined,
    }),
    pay: createPayClientFromConfig(config, clock),
    einvoice: createNuonuoClient({
      baseUrl: config.EINVOICE_API_BASE ?? `${local}/einvoice`,
      appKey: config.EINVOICE_APPKEY,
      appSecret: config.EINVOICE_SECRET,
      accessToken: config.EINVOICE_TOKEN,
      userTax: einvoiceTaxNumber(config),
      timeoutMs: config.EINVOICE_TIMEOUT_MS,
    }),
    mailer: createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, mailbox }),
  };
}

/** The Pay client for this config: the sandbox's fixed keys in sandbox mode, files from config otherwise. */
export function createPayClientFromConfig(config: Config, clock: () => Date = () => new Date()) {
  return createPayClient({
    baseUrl: config.WXPAY_API_BASE ?? `http://${config.HOST}:${config.PORT}/sandbox`,
    appid: config.WECHAT_APPID,
    mchid: config.WXPAY_MCHID,
    apiV3Key: config.WXPAY_APIV3_KEY,
    now: clock,
    ...payKeys(config),
  });
}

function payKeys(config: Config): { merchantCertPem: string; merchantKeyPem: string; platformCerts: PlatformCert[] } {
  if (config.HB_MODE === 'sandbox' && !config.WXPAY_MERCHANT_KEY_PATH) {
    return sandboxPayCredentials();
  }
  return {
    merchantCertPem: fs.readFileSync(config.WXPAY_MERCHANT_CERT_PATH!, 'utf8'),
    merchantKeyPem: fs.readFileSync(config.WXPAY_MERCHANT_KEY_PATH!, 'utf8'),
    platformCerts: JSON.parse(config.WXPAY_PLATFORM_CERTS ?? '[]'),
  };
}
