import path from 'node:path';
import { z } from 'zod';
import { LimitsOverride } from './platform/limits';
import { SUBSCRIBE_TEMPLATE_KEYS, SUBSCRIBE_TEMPLATES, type SubscribeTemplate } from '@heat-butler/shared';

/** a job's interval in ms by name (platform/jobs.ts) */
const JobEvery = z.record(z.string(), z.number().int().min(100));
/** the e-invoice simulator's seller tax number (sandbox mode only) */
export const SANDBOX_TAX_NUMBER = '339902999999789113';

/**
 * Every setting comes from the environment, parsed once at start. A bad or missing variable
 * stops start-up with one message listing all of them. See the README's table.
 */
const Env = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HB_MODE: z.enum(['sandbox', 'production']).default('sandbox'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('127.0.0.1'),
    /** Public base URL of this BFF, used for WeChat notify_url callbacks. */
    PUBLIC_BASE_URL: z.string().url().optional(),
    /** mysql://user:pass@host:3306/db (MySQL 8) or mariadb://… (MariaDB 10.6+); unset = embedded SQLite */
    DATABASE_URL: z
      .string()
      .regex(/^(mysql|mariadb):\/\//, '必须以 mysql:// 或 mariadb:// 开头')
      .optional(),
    SQLITE_PATH: z.string().default(path.resolve(process.cwd(), 'data', 'heat-butler.sqlite')),
    DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
    /** MySQL/MariaDB: longest wait for a pool connection before a request answers 503 DB_UNAVAILABLE */
    DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    /** MySQL/MariaDB: longest statement (server-side max_statement_time / max_execution_time) */
    DB_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    /** MySQL/MariaDB: longest wait for a row or table lock (innodb_lock_wait_timeout, lock_wait_timeout) */
    DB_LOCK_WAIT_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
    /** /readyz answers 503 when the database doesn't answer within this */
    /** graceful shutdown (SIGTERM): how long requests in flight may take before connections are cut */
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
    READY_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SESSION_TTL_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(24 * 7),
    BODY_LIMIT_KB: z.coerce.number().int().min(1).max(10_240).default(256),
    /** Serve the H5 build from this folder (sandbox demo); unset = don't serve static files. */
    H5_DIR: z.string().optional(),
    REDIS_URL: z.string().optional(),
    WECHAT_APPID: z.string().min(1).default('wx00000000sandbox'),
    WECHAT_SECRET: z.string().min(1).default('sandbox-secret'),
    /** Base URL of the mini-program server API; in sandbox mode the local simulator. */
    WECHAT_API_BASE: z.string().url().optional(),
    /** subscription-message template ids (WeChat admin console → 订阅消息); sandbox defaults */
    WECHAT_TPL_PAYMENT_SUCCESS: z.string().min(1).default('sandbox-tpl-payment-success'),
    WECHAT_TPL_REFUND: z.string().min(1).default('sandbox-tpl-refund'),
    WECHAT_TPL_INVOICE_ISSUED: z.string().min(1).default('sandbox-tpl-invoice-issued'),
    WECHAT_TPL_REPAIR_PROGRESS: z.string().min(1).default('sandbox-tpl-repair-progress'),
    WECHAT_TPL_COMPLAINT_PROGRESS: z.string().min(1).default('sandbox-tpl-complaint-progress'),
    WECHAT_TPL_SERVICE_CHANGE: z.string().min(1).default('sandbox-tpl-service-change'),
    WECHAT_TPL_ANNOUNCEMENT: z.string().min(1).default('sandbox-tpl-announcement'),
    /** message push (消息推送) Token and EncodingAESKey from the admin console; the URL is <PUBLIC_BASE_URL>/api/v1/wechat/push */
    WECHAT_PUSH_TOKEN: z
      .string()
      .regex(/^[A-Za-z0-9]{3,32}$/, '3-32 位字母或数字')
      .default('sandboxPushToken'),
    WECHAT_PUSH_AES_KEY: z
      .string()
      .regex(/^[A-Za-z0-9]{43}$/, '43 位字母或数字')
      .optional(),
    /** which version of the mini-program a subscription message opens: developer | trial | formal */
    WECHAT_MINIPROGRAM_STATE: z.enum(['developer', 'trial', 'formal']).default('formal'),
    WXPAY_MCHID: z.string().min(1).default('1900000001'),
    WXPAY_API_BASE: z.string().url().optional(),
    /** exactly 32 ASCII characters */
    WXPAY_APIV3_KEY: z.string().length(32).default('sandboxApiV3Key0123456789abcdefg'),
    WXPAY_MERCHANT_CERT_PATH: z.string().optional(),
    WXPAY_MERCHANT_KEY_PATH: z.string().optional(),
    /** JSON array of {serial, pem} WeChat platform certificates or public keys (PUB_KEY_ID_…) */
    WXPAY_PLATFORM_CERTS: z.string().optional(),
    /** e-invoice provider (Nuonuo open API); in sandbox mode the local simulator */
    EINVOICE_API_BASE: z.string().url().optional(),
    EINVOICE_APPKEY: z.string().default('SANDBOX_APPKEY'),
    EINVOICE_SECRET: z.string().default('sandbox-einvoice-secret'),
    EINVOICE_TOKEN: z.string().default('sandbox-einvoice-token'),
    /** the seller's tax number (纳税人识别号) sent as the provider's userTax header; sandbox default, required in production */
    EINVOICE_TAX_NUMBER: z
      .string()
      .regex(/^[0-9A-Z]{15,20}$/, '15-20 位数字或大写字母（纳税人识别号）')
      .optional(),
    EINVOICE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** between polls of an invoice the provider is still issuing */
    INVOICE_POLL_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
    /** smtp://user:pass@host:587 for invoice mail; unset in sandbox mode = kept in the sandbox mailbox */
    SMTP_URL: z.string().optional(),
    MAIL_FROM: z.string().default('供热管家 <noreply@heat-butler.local>'),
    /** archived files (invoice PDFs); signed download links are made with FILE_URL_SECRET */
    FILES_DIR: z.string().default(path.resolve(process.cwd(), 'data', 'files')),
    FILE_URL_SECRET: z.string().min(16).optional(),
    /** uploaded photos (repairs, chat, ID documents, valve work); served only by signed links */
    UPLOAD_DIR: z.string().default(path.resolve(process.cwd(), 'data', 'uploads')),
    /** raw WeChat Pay trade bills kept by reconciliation: <dir>/<YYYY-MM>/<date>-<sha1>.csv */
    RECON_BILL_DIR: z.string().default(path.resolve(process.cwd(), 'data', 'trade-bills')),
    /** the largest photo accepted (larger → 413 UPLOAD_TOO_LARGE) */
    UPLOAD_MAX_KB: z.coerce.number().int().min(64).max(20_480).default(2048),
    /** minutes a resident has to pay an order (WeChat time_expire) */
    PAY_ORDER_TTL_MINUTES: z.coerce.number().int().min(5).max(120).default(30),
    /** the sweeper queries orders still pending after this many minutes */
    PAY_SWEEP_AFTER_MINUTES: z.coerce.number().int().min(1).max(60).default(5),
    /** bearer token a Prometheus scraper presents at GET /metrics; unset = /metrics answers 404 */
    METRICS_TOKEN: z.string().min(16, '至少 16 个字符').optional(),
    /** days a done outbox message is kept whole; then deleted, or archived (key only) when it has a dedupe key */
    OUTBOX_KEEP_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** how often each instance looks for a due scheduled job (job_lease) */
    JOB_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
    /** JSON: a job's interval in ms by name (payment-sweep, repair-escalation, complaint-escalation, watch-tasks, reconciliation, upload-retention, outbox-retention) */
    JOB_EVERY_MS: z
      .union([
        JobEvery,
        z
          .string()
          .transform((text, ctx) => {
            try {
              return JSON.parse(text) as unknown;
            } catch {
              ctx.addIssue({ code: 'custom', message: 'JSON：{"任务名": 毫秒数}' });
              return z.NEVER;
            }
          })
          .pipe(JobEvery),
      ])
      .default({}),
    /** `npm start` (sandbox): create the demo company in an empty database */
    HB_SEED_DEMO: z.enum(['0', '1']).default('0'),
    /** JSON overriding some of the limits (platform/limits.ts, README "Limits") */
    HB_LIMITS: LimitsOverride.default({}),
  })
  .superRefine((env, ctx) => {
    if (env.HB_MODE === 'production') {
      for (const key of [
        'DATABASE_URL',
        'PUBLIC_BASE_URL',
        'WECHAT_API_BASE',
        'WXPAY_API_BASE',
        'WXPAY_MERCHANT_CERT_PATH',
        'WXPAY_MERCHANT_KEY_PATH',
        'WXPAY_PLATFORM_CERTS',
        'EINVOICE_API_BASE',
        'FILE_URL_SECRET',
      ] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: '生产模式必须设置' });
      }
      // the provider would issue every invoice under the sandbox's seller
      if (!env.EINVOICE_TAX_NUMBER || env.EINVOICE_TAX_NUMBER === SANDBOX_TAX_NUMBER)
        ctx.addIssue({ code: 'custom', path: ['EINVOICE_TAX_NUMBER'], message: '生产模式必须设置（销方纳税人识别号，电子发票接口的 userTax）' });
      if (env.WECHAT_PUSH_TOKEN === 'sandboxPushToken')
        ctx.addIssue({ code: 'custom', path: ['WECHAT_PUSH_TOKEN'], message: '生产模式必须设置（消息推送 Token）' });
      // the sandbox template ids cannot arrive on a real phone
      for (const key of TEMPLATE_ENV) {
        if (env[key].startsWith('sandbox-')) ctx.addIssue({ code: 'custom', path: [key], message: '生产模式必须设置（订阅消息模板 ID）' });
      }
    }
  });

export type Config = z.infer<typeof Env>;

/** The seller tax number the e-invoice client sends: the configured one, the simulator's in sandbox mode. */
export function einvoiceTaxNumber(config: Config): string {
  return config.EINVOICE_TAX_NUMBER ?? SANDBOX_TAX_NUMBER;
}

/** The subscription-message template id variables, by template (see SUBSCRIBE_TEMPLATES). */
const TEMPLATE_ENV = [
  'WECHAT_TPL_PAYMENT_SUCCESS',
  'WECHAT_TPL_REFUND',
  'WECHAT_TPL_INVOICE_ISSUED',
  'WECHAT_TPL_REPAIR_PROGRESS',
  'WECHAT_TPL_COMPLAINT_PROGRESS',
  'WECHAT_TPL_SERVICE_CHANGE',
  'WECHAT_TPL_ANNOUNCEMENT',
] as const;

/** Template key → configured template id. */
export function templateIds(config: Config): Record<SubscribeTemplate, string> {
  return Object.fromEntries(SUBSCRIBE_TEMPLATE_KEYS.map((k) => [k, config[SUBSCRIBE_TEMPLATES[k].env]])) as Record<SubscribeTemplate, string>;
}

export class ConfigError extends Error {}

/** Parse the environment; throws one ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const result = Env.safeParse({ ...pickDefined(env), ...overrides });
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration (${lines.length}):\n${lines.join('\n')}`);
  }
  return result.data;
}

function pickDefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
