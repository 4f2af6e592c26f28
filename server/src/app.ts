import crypto from 'node:crypto';
import { Stream } from 'node:stream';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import getRawBody from 'raw-body';
import serve from 'koa-static';
import type { DataSource } from 'typeorm';
import { templateIds, type Config } from './config';
import type { Logger } from './platform/logger';
import { AppError, answerError, answerUnanswered } from './platform/errors';
import { httpMetrics, registry as metricsRegistry } from './platform/metrics';
import { securityHeaders } from './platform/security-headers';
import { bearerToken, type AuthPrincipal } from './platform/auth';
import { bySegment, jsonBytes } from './platform/http';
import { OutboxWorker } from './platform/outbox';
import { EventBus } from './platform/events';
import type { MiniProgramClient } from './wechat/miniprogram';
import { CompanyService } from './modules/company';
import { IdentityService } from './modules/identity';
import { identityRoutes } from './modules/identity';
import { AccountsService } from './modules/accounts';
import { accountsRoutes } from './modules/accounts';
import { companyRoutes } from './modules/company';
import type { PayClient } from './wechat/pay';
import type { InvoiceProvider } from './invoicing/nuonuo';
import type { Mailer } from './platform/mail';
import { InvoicesService, invoicesReactions } from './modules/invoices';
import { invoicesRoutes } from './modules/invoices';
import { NotificationsService } from './modules/notifications';
import { notificationsRoutes } from './modules/notifications';
import { ModerationService } from './modules/moderation';
import { moderationRoutes } from './modules/moderation';
import { BillingService } from './modules/billing';
import { billingRoutes } from './modules/billing';
import { PaymentsService, paymentsReactions } from './modules/payments';
import { paymentsRoutes, payNotifyRoutes } from './modules/payments';
import { ReconciliationService } from './modules/reconciliation';
import { reconciliationRoutes } from './modules/reconciliation';
import { ServiceChangesService, serviceChangesReactions } from './modules/service-changes';
import { serviceChangesRoutes } from './modules/service-changes';
import { GroupsService, groupsReactions } from './modules/groups';
import { groupsRoutes } from './modules/groups';
import { RealtimeHub } from './platform/realtime';
import { DEFAULT_LIMITS, Limiter, type Limits } from './platform/limits';
import { RepairsService } from './modules/repairs';
import { MeasurementsService } from './modules/repairs';
import { repairsRoutes } from './modules/repairs';
import { repairsReactions } from './modules/repairs';
import { ComplaintsService, WatchProgram, complaintsRoutes } from './modules/complaints';
import { LinkSigner } from './platform/signed-links';
import { UploadsService } from './platform/uploads/service';
import { uploadsRoutes } from './platform/uploads/routes';
import { AdminService } from './modules/admin';
import { adminRoutes } from './modules/admin';

/** What the app is built from: swapped wholesale between sandbox, production and tests. */
export interface AppDeps {
  config: Config;
  ds: DataSource;
  log: Logger;
  clock: () => Date;
  wechat: MiniProgramClient;
  pay: PayClient;
  einvoice: InvoiceProvider;
  mailer: Mailer;
}

export type Services = ReturnType<typeof createServices>;

/**
 * One instance of each module's service, wired together: dependencies by constructor (in the
 * order they need each other), events (platform/events.ts) by each module's reactions, wired once
 * at the end, in any order.
 */
export function createServices(deps: AppDeps) {
  const { ds, clock } = deps;
  const outbox = new OutboxWorker(ds, deps.log, clock);
  const events = new EventBus(outbox, clock);
  const company = new CompanyService(ds);
  const limiter = new Limiter(ds, clock, { ...DEFAULT_LIMITS, ...(deps.config.HB_LIMITS as Partial<Limits>) }, async () => (await company.info()).hotline);
  const links = new LinkSigner(deps.config.FILE_URL_SECRET ?? FILE_SECRET_FALLBACK, clock);
  const uploads = new UploadsService({
    ds,
    log: deps.log,
    clock,
    dir: deps.config.UPLOAD_DIR,
    maxBytes: deps.config.UPLOAD_MAX_KB * 1024,
    links,
    retention: async () => (await company.rules()).retention,
  });
  const identity = new IdentityService({ ds, wechat: deps.wechat, sessionTtlHours: deps.config.SESSION_TTL_HOURS, clock, limiter });
  const accounts = new AccountsService(ds, clock, limiter, { identity, company, events });
  const notifications = new NotificationsService({
    ds,
    identity,
    wechat: deps.wechat,
    templateIds: templateIds(deps.config),
    miniprogramState: deps.config.WECHAT_MINIPROGRAM_STATE,
  });
  const moderation = new ModerationService({
    ds,
    clock,
    log: deps.log,
    identity,
    wechat: deps.wechat,
    publicBaseUrl: deps.config.PUBLIC_BASE_URL ?? '',
    uploads,
    events,
  });
  const billing = new BillingService(ds, accounts, clock, events, () => company.rules());
  const payments: PaymentsService = new PaymentsService({
    ds,
    pay: deps.pay,
    billing,
    accounts,
    notifications,
    events,
    log: deps.log,
    clock,
    appid: deps.config.WECHAT_APPID,
    mchid: deps.config.WXPAY_MCHID,
    notifyUrl: `${deps.config.PUBLIC_BASE_URL}/api/v1/wechat/pay/notify`,
    orderTtlMinutes: deps.config.PAY_ORDER_TTL_MINUTES,
    sweepAfterMinutes: deps.config.PAY_SWEEP_AFTER_MINUTES,
    // measurements are built below; called only when a refund is requested
    rulingExists: (accountId: number, ref: string): Promise<boolean> => measurements.rulingExists(accountId, ref),
  });
  notifications.register(outbox);
  const serviceChanges = new ServiceChangesService({ ds, clock, company, accounts, billing, payments, notifications, moderation, uploads });
  const realtime = new RealtimeHub(deps.log, deps.config.REDIS_URL);
  const repairs = new RepairsService({ ds, accounts, company, identity, notifications, moderation, log: deps.log, clock, uploads });
  repairs.register(outbox);
  const groups = new GroupsService({
    ds,
    clock,
    log: deps.log,
    accounts,
    billing,
    identity,
    company,
    notifications,
    realtime,
    repairs,
    limiter,
    moderation,
    uploads,
  });
  groups.register();
  const measurements: MeasurementsService = new MeasurementsService({ ds, accounts, company, payments, clock, uploads });
  const reconciliation = new ReconciliationService({ ds, pay: deps.pay, payments, company, log: deps.log, clock, billDir: deps.config.RECON_BILL_DIR });
  const invoices = new InvoicesService({
    ds,
    provider: deps.einvoice,
    payments,
    accounts,
    company,
    notifications,
    mailer: deps.mailer,
    log: deps.log,
    clock,
    filesDir: deps.config.FILES_DIR,
    links,
    publicBaseUrl: deps.config.PUBLIC_BASE_URL ?? '',
    pollDelayMs: deps.config.INVOICE_POLL_DELAY_MS,
    limiter,
  });
  const complaints = new ComplaintsService({ ds, accounts, company, identity, moderation, repairs, notifications, clock });
  const watch = new WatchProgram({ ds, accounts, company, repairs, complaints, clock });
  const admin = new AdminService({ ds, clock, log: deps.log, company, identity, accounts, billing, payments, groups, repairs, serviceChanges });
  // what each module reacts to (its reactions.ts): the event catalogue is platform/events.ts
  events.wire([
    paymentsReactions(payments),
    invoicesReactions(invoices),
    serviceChangesReactions(serviceChanges),
    groupsReactions(groups, accounts),
    repairsReactions(repairs),
  ]);
  return {
    outbox,
    events,
    uploads,
    limiter,
    company,
    identity,
    accounts,
    notifications,
    moderation,
    billing,
    payments,
    invoices,
    reconciliation,
    repairs,
    measurements,
    complaints,
    watch,
    realtime,
    groups,
    serviceChanges,
    admin,
  };
}

/** The matched route's template for metrics and logs; 'unmatched' for anything no route took. */
function routeTemplate(ctx: Koa.Context): string {
  const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (ctx.path === '/sandbox' || ctx.path.startsWith('/sandbox/')) return '/sandbox';
  return ctx.status === 404 ? 'unmatched' : 'static';
}

/** Paths without upload keys: a key names a person's photo, so it never reaches a log line. */
function loggablePath(p: string): string {
  return p.replace(/\/uploads\/up_[a-f0-9]+/g, '/uploads/:key');
}

/**
 * `ctx.state` of every request: its id, and its logger (a child of the app's with the id on every
 * line) made when the request first logs: most never do below info, and a pino child serialises its
 * bindings when it is made. Routes add what they pass along (principal, sessionExpired).
 */
class RequestState {
  [key: string]: unknown;
  readonly requestId: string;
  readonly #root: Logger;
  #log: Logger | undefined;
  constructor(requestId: string, root: Logger) {
    this.requestId = requestId;
    this.#root = root;
  }
  get log(): Logger {
    return (this.#log ??= this.#root.child({ reqId: this.requestId }));
  }
}

/** sandbox/dev only (production requires FILE_URL_SECRET): links die with the process */
const FILE_SECRET_FALLBACK = crypto.randomBytes(32).toString('hex');

export function createApp(deps: AppDeps, services: Services): Koa {
  const app = new Koa();
  app.proxy = deps.config.HB_MODE === 'production';
  // the client address (per-address limits) is the one our own proxy appended, never a client-sent X-Forwarded-For entry
  app.maxIpsCount = 1;
  app.silent = true;

  // what every answer gets, in one middleware (each layer of Koa's chain is a promise and a closure
  // more on every request): a request id and a child logger on every line (RequestState), the
  // security headers, the one error shape, the JSON body serialised once, metrics, the access log
  const accessLog = () => deps.log.isLevelEnabled('info');
  const setSecurityHeaders = securityHeaders({ h5Dir: deps.config.H5_DIR, https: (deps.config.PUBLIC_BASE_URL ?? '').startsWith('https://') });
  app.use(async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = /^[\w-]{8,64}$/.test(incoming) ? incoming : crypto.randomUUID();
    ctx.state = new RequestState(requestId, deps.log);
    ctx.set('X-Request-Id', requestId);
    setSecurityHeaders(ctx);
    const started = performance.now();
    try {
      try {
        await next();
        answerUnanswered(ctx);
      } catch (err) {
        answerError(ctx, err);
      }
      // a JSON body is serialised once, here, to its bytes (jsonBytes): the access log's byte count
      // (ctx.response.length) would otherwise stringify it a second time, besides Koa's own answer
      const body: unknown = ctx.body;
      if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body) && !(body instanceof Stream)) ctx.body = jsonBytes(body);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      // the route template ('/api/v1/bills/:id'), never the raw path: bounded label values
      const routeName = routeTemplate(ctx);
      httpMetrics.record(ctx.method, routeName, ctx.status, seconds);
      if (ctx.path.startsWith('/api/') && accessLog()) {
        // the access log: one structured line per API request, with its request id (reqId)
        ctx.state.log.info(
          {
            method: ctx.method,
            path: loggablePath(ctx.path),
            route: routeName,
            status: ctx.status,
            ms: Math.round(seconds * 1000),
            ip: ctx.ip,
            bytes: ctx.response.length,
          },
          'request',
        );
      }
    }
  });

  const root = new Router();
  root.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });
  root.get('/readyz', async (ctx) => {
    // red when the database doesn't answer in READY_TIMEOUT_MS (down, hung, pool exhausted, or the
    // session table every login and staff request reads is locked), without waiting any longer
    let timer: NodeJS.Timeout | undefined;
    const probe = deps.ds.query(`SELECT 1 FROM ${deps.ds.driver.escape('session')} WHERE id = 0`).then(() => 'up' as const);
    probe.catch(() => undefined);
    const outcome = await Promise.race([
      probe,
      new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), deps.config.READY_TIMEOUT_MS))),
    ]).catch(() => 'down' as const);
    clearTimeout(timer);
    ctx.set('Cache-Control', 'no-store');
    if (outcome === 'up') {
      ctx.body = { ok: true, db: 'up' };
    } else {
      ctx.status = 503;
      ctx.body = { ok: false, db: outcome === 'slow' ? 'timeout' : 'down' };
    }
  });
  // Prometheus metrics for a scraper with METRICS_TOKEN; without it there is no such page
  root.get('/metrics', async (ctx) => {
    const expected = deps.config.METRICS_TOKEN;
    if (!expected) throw new AppError('NOT_FOUND');
    const given = bearerToken(ctx.get('Authorization')) ?? '';
    const a = crypto.createHash('sha256').update(given).digest();
    const b = crypto.createHash('sha256').update(expected).digest();
    if (!crypto.timingSafeEqual(a, b)) throw new AppError('UNAUTHENTICATED');
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metricsRegistry.contentType;
    ctx.body = await metricsRegistry.metrics();
  });

  // WeChat Pay's notifications first: signed over the raw body, so its bytes as sent (the verifier
  // parses what it verified; 413 past BODY_LIMIT_KB), no bearer-token lookup, and not matched
  // against every API route. raw-body alone: a body parser's content-type checks and decoding were
  // ~20 µs of a notification's ~400 (bench:notify's CPU profile, 2026-12-01)
  const webhooks = new Router({ prefix: '/api/v1' });
  const bodyLimit = `${deps.config.BODY_LIMIT_KB}kb`;
  webhooks.use(async (ctx, next) => {
    ctx.state.rawBody = await getRawBody(ctx.req, { length: ctx.get('Content-Length') || undefined, limit: bodyLimit });
    return next();
  });
  const payNotify = payNotifyRoutes(services.payments, deps.pay);
  webhooks.use(payNotify.routes(), payNotify.allowedMethods({ throw: false }));

  const api = new Router({ prefix: '/api/v1' });
  // the parser reads POST, PUT and PATCH bodies only; the rest skip its async frame
  const bodyMethods = ['POST', 'PUT', 'PATCH'];
  const parseJson = bodyParser({
    enableTypes: ['json'],
    jsonLimit: bodyLimit,
    encoding: 'utf-8',
    parsedMethods: bodyMethods,
  });
  const parsed = (ctx: Koa.Context, next: Koa.Next) => (bodyMethods.includes(ctx.method) ? parseJson(ctx, next) : next());
  const withPrincipal = (ctx: Koa.Context, p: AuthPrincipal | 'expired' | null) => {
    if (p === 'expired') ctx.state.sessionExpired = true;
    else if (p) ctx.state.principal = p;
  };
  // the caller (a resident's session from memory without a promise, else the database), then the
  // body: one layer of the router's chain for both
  api.use((ctx, next) => {
    const token = bearerToken(ctx.get('Authorization'));
    if (!token) return parsed(ctx, next);
    const cached = services.identity.cachedToken(token);
    if (cached !== undefined) {
      withPrincipal(ctx, cached);
      return parsed(ctx, next);
    }
    return services.identity.resolveToken(token).then((p) => {
      withPrincipal(ctx, p);
      return parsed(ctx, next);
    });
  });
  for (const router of [
    identityRoutes(services.identity, services.accounts),
    accountsRoutes(services.accounts),
    companyRoutes(services.company),
    billingRoutes(services.billing),
    paymentsRoutes(services.payments, deps.pay),
    invoicesRoutes(services.invoices),
    reconciliationRoutes(services.reconciliation),
    serviceChangesRoutes(services.serviceChanges),
    groupsRoutes(services.groups),
    repairsRoutes(services.repairs, services.measurements),
    complaintsRoutes(services.complaints, services.watch),
    adminRoutes(services.admin),
    notificationsRoutes(services.notifications),
    // push timestamps are checked against the real clock (transport freshness, not business time)
    moderationRoutes(services.moderation, { token: deps.config.WECHAT_PUSH_TOKEN, aesKey: deps.config.WECHAT_PUSH_AES_KEY, appid: deps.config.WECHAT_APPID }, [
      (msg) => services.notifications.onPush(msg),
    ]),
    uploadsRoutes(services.uploads, services.limiter),
  ]) {
    // the modules' routes are copied into this router's one list (allowedMethods reads it)
    api.use(router.routes());
  }
  // each request runs the routes of its first path segment only (the webhook's before the API's)
  app.use(bySegment([root, webhooks, api]));
  // a known path asked with a method it doesn't take: 405 (OPTIONS: 200), with Allow, in the API's
  // error shape. Only requests no route took get here; per module, this check ran on every request.
  app.use(api.allowedMethods());

  if (deps.config.H5_DIR) app.use(serve(deps.config.H5_DIR, { maxage: 0, gzip: false }));
  return app;
}
