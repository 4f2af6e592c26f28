/**
 * Limits that hold across instances and under concurrency: one counter row per limit and
 * subject (`bind.account:0101010101`) in the database, counted with one atomic upsert inside a
 * transaction, so 40 parallel tries are counted 1…40 and only the first `max` go on. The
 * database rather than Redis because every instance already has it, it works the same on
 * MariaDB/MySQL and SQLite, and a lockout survives restarts (Redis is optional here).
 *
 * A try is counted before the work it guards (a password check, a binding's facts) and given
 * back when it turns out not to count (the right password, a successful binding): what is
 * evaluated never exceeds the limit. Windows are fixed, starting at the first try; over the limit
 * answers 429 with Retry-After and a Chinese message that says when and gives the hotline.
 */
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { ErrorCode } from '@heat-butler/shared';
import { driverOf, withTx } from './db/data-source';
import { AppError } from './errors';
import { RateCounter } from './entities';

const Rule = z.object({
  max: z.number().int().min(1).max(1_000_000),
  windowMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60),
});
export type LimitRule = z.infer<typeof Rule>;

/** The limits and their defaults; HB_LIMITS (JSON) overrides any of them. See README "Limits". */
export const DEFAULT_LIMITS = {
  /** failed bindings per resident (WeChat identity) */
  'bind.resident': { max: 5, windowMinutes: 60 },
  /** failed bindings per account number, whoever tries: new WeChat identities get no fresh tries */
  'bind.account': { max: 5, windowMinutes: 60 },
  /** failed bindings per client address */
  'bind.address': { max: 30, windowMinutes: 60 },
  /** failed staff logins per username: then the account is locked until the window ends or an admin unlocks it */
  'login.username': { max: 5, windowMinutes: 15 },
  /** failed staff logins per client address */
  'login.address': { max: 30, windowMinutes: 15 },
  /** invite-code tries (staff binding their WeChat) per client address */
  'invite.address': { max: 10, windowMinutes: 60 },
  /** invoice e-mails a resident may send */
  'mail.resident': { max: 10, windowMinutes: 24 * 60 },
  /** group messages a resident may post */
  'post.resident': { max: 30, windowMinutes: 10 },
  /** photos a resident may upload */
  'upload.resident': { max: 60, windowMinutes: 24 * 60 },
} as const satisfies Record<string, LimitRule>;

export type LimitName = keyof typeof DEFAULT_LIMITS;
export type Limits = Record<LimitName, LimitRule>;

const LimitsObject = z
  .object(Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, Rule.optional()])) as Record<LimitName, z.ZodOptional<typeof Rule>>)
  .strict();

/**
 * HB_LIMITS: a JSON object overriding some limits, e.g. {"bind.account":{"max":3,"windowMinutes":60}}
 * (or the object itself, for tests).
 */
export const LimitsOverride = z.union([
  LimitsObject,
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: '必须是 JSON 对象' });
        return z.NEVER;
      }
    })
    .pipe(LimitsObject),
]);

/** What a limit is about, for its 429 message. */
const LIMIT_TEXT: Record<LimitName, { code: ErrorCode; text: string }> = {
  'bind.resident': { code: 'BIND_ATTEMPTS_EXCEEDED', text: '绑定失败次数过多' },
  'bind.account': { code: 'BIND_ATTEMPTS_EXCEEDED', text: '该户号绑定失败次数过多' },
  'bind.address': { code: 'BIND_ATTEMPTS_EXCEEDED', text: '绑定失败次数过多' },
  'login.username': { code: 'LOGIN_LOCKED', text: '密码错误次数过多，账号已暂时锁定' },
  'login.address': { code: 'RATE_LIMITED', text: '登录尝试过于频繁' },
  'invite.address': { code: 'RATE_LIMITED', text: '邀请码尝试次数过多' },
  'mail.resident': { code: 'RATE_LIMITED', text: '发送发票邮件次数已达上限' },
  'post.resident': { code: 'RATE_LIMITED', text: '发言过于频繁' },
  'upload.resident': { code: 'RATE_LIMITED', text: '上传图片数量已达上限' },
};

/** 23 分钟, 45 秒, 2 小时 5 分钟 */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} 秒`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `${minutes} 分钟`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} 小时 ${m} 分钟` : `${h} 小时`;
}

/** "请在 23 分钟后再试，如需帮助请拨打客服热线 0431-88886666" */
export function retryText(seconds: number, hotline: string): string {
  return `请在 ${waitText(seconds)}后再试${hotline ? `，如需帮助请拨打客服热线 ${hotline}` : ''}`;
}

export interface Check {
  limit: LimitName;
  subject: string | number;
}

/** Tries counted by take(): give them back when the guarded work turned out not to count. */
export interface Taken {
  /** how many more tries the tightest of the limits allows after this one */
  left: number;
  /** seconds until the tightest limit's window ends */
  resetsIn: number;
  giveBack(): Promise<void>;
}

export class Limiter {
  private calls = 0;

  constructor(
    private ds: DataSource,
    private clock: () => Date,
    private rules: Limits,
    /** the company's hotline, for the 429 message */
    private hotline: () => Promise<string>,
  ) {}

  /**
   * Count one try against each check, in order. Over any limit: the tries counted by this call
   * are given back and a 429 is thrown (nothing of the guarded work runs).
   */
  async take(checks: Check[]): Promise<Taken> {
    const now = this.clock().getTime();
    const counted: { bucket: string; windowEnds: number }[] = [];
    let left = Infinity;
    let resetsIn = 0;
    if (++this.calls % 1000 === 0) void this.prune().catch(() => undefined);
    for (const c of checks) {
      const rule = this.rules[c.limit];
      const bucket = `${c.limit}:${c.subject}`.slice(0, 191);
      const { hits, windowEnds } = await this.hit(bucket, now, now + rule.windowMinutes * 60_000);
      if (hits > rule.max) {
        await this.undo(counted);
        throw await this.error(c.limit, (windowEnds - now) / 1000);
      }
      counted.push({ bucket, windowEnds });
      if (rule.max - hits < left) {
        left = rule.max - hits;
        resetsIn = Math.ceil((windowEnds - now) / 1000);
      }
    }
    return { left: left === Infinity ? 0 : left, resetsIn, giveBack: () => this.undo(counted) };
  }

  /** The 429 for a limit: Retry-After, when, the hotline. */
  async error(limit: LimitName, retryAfterSeconds: number): Promise<AppError> {
    const retry = Math.max(1, Math.ceil(retryAfterSeconds));
    const { code, text } = LIMIT_TEXT[limit];
    return new AppError(code, { limit, retryAfterSeconds: retry, retryAt: new Date(this.clock().getTime() + retry * 1000).toISOString() }).say(
      `${text}，${retryText(retry, await this.hotlineSafe())}`,
    );
  }

  async hotlineSafe(): Promise<string> {
    return this.hotline().catch(() => '');
  }

  /** Seconds until a subject may try again, or 0 when it is under the limit. */
  async blockedFor(limit: LimitName, subject: string | number): Promise<number> {
    const row = await this.ds.getRepository(RateCounter).findOne({ where: { bucket: `${limit}:${subject}`.slice(0, 191) } });
    const now = this.clock().getTime();
    if (!row || row.windowEnds <= now || row.hits < this.rules[limit].max) return 0;
    return Math.ceil((row.windowEnds - now) / 1000);
  }

  /** Forget a subject's count (an admin unlocking a staff login). */
  async reset(limit: LimitName, subject: string | number): Promise<void> {
    await this.ds.getRepository(RateCounter).delete({ bucket: `${limit}:${subject}`.slice(0, 191) });
  }

  /** Drop counters whose window ended more than a day ago. */
  async prune(): Promise<number> {
    const res = await this.ds
      .getRepository(RateCounter)
      .createQueryBuilder()
      .delete()
      .where('windowEnds < :t', { t: this.clock().getTime() - 24 * 3_600_000 })
      .execute();
    return res.affected ?? 0;
  }

  /** One atomic count: a new window when the last one ended. */
  private async hit(bucket: string, now: number, windowEnds: number): Promise<{ hits: number; windowEnds: number }> {
    const upsert =
      driverOf(this.ds) === 'mysql'
        ? 'INSERT INTO `rate_counter` (`bucket`, `hits`, `windowEnds`) VALUES (?, 1, ?) ON DUPLICATE KEY UPDATE ' +
          '`hits` = IF(`windowEnds` <= ?, 1, `hits` + 1), `windowEnds` = IF(`windowEnds` <= ?, VALUES(`windowEnds`), `windowEnds`)'
        : 'INSERT INTO "rate_counter" ("bucket", "hits", "windowEnds") VALUES (?, 1, ?) ON CONFLICT ("bucket") DO UPDATE SET ' +
          '"hits" = CASE WHEN "windowEnds" <= ? THEN 1 ELSE "hits" + 1 END, "windowEnds" = CASE WHEN "windowEnds" <= ? THEN excluded."windowEnds" ELSE "windowEnds" END';
    // the upsert holds the row's lock until commit, so the read sees exactly this call's count
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTx(this.ds, async (em) => {
          await em.query(upsert, [bucket, windowEnds, now, now]);
          const row = await em.getRepository(RateCounter).findOneOrFail({ where: { bucket } });
          return { hits: row.hits, windowEnds: row.windowEnds };
        });
      } catch (err: any) {
        // InnoDB may pick two first inserts of one key as a deadlock, and a burst on one key may
        // outwait the lock-wait limit on a busy server: the loser counts again after a short pause
        const e = err?.driverError ?? err;
        const contended = e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || e?.code === 'ER_LOCK_WAIT_TIMEOUT' || e?.errno === 1205;
        if (attempt >= 5 || !contended) throw err;
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
      }
    }
  }

  private async undo(counted: { bucket: string; windowEnds: number }[]): Promise<void> {
    for (const c of counted) {
      await this.ds
        .getRepository(RateCounter)
        .createQueryBuilder()
        .update()
        .set({ hits: () => 'hits - 1' })
        .where('bucket = :b AND windowEnds = :w AND hits > 0', { b: c.bucket, w: c.windowEnds })
        .execute();
    }
  }
}

/** The client's address as the limits see it (behind a proxy in production: X-Forwarded-For, see app.proxy). */
export const clientAddress = (ctx: { ip: string }) => ctx.ip || 'unknown';
