import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { formatChinaTime } from '@heat-butler/shared';
import { errorSummary } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { PaymentAnomaly } from './entities';

/** Something WeChat told us that we can't credit or apply: recorded once for finance. */
export async function flag(em: EntityManager, log: Logger, kind: PaymentAnomaly['kind'], outTradeNo: string, detail: Record<string, unknown>) {
  log.error({ kind, outTradeNo }, 'payment anomaly: not credited, flagged for finance');
  const key = `${kind}:${outTradeNo}`;
  if (await em.findOne(PaymentAnomaly, { where: { key } })) return;
  await em.insert(PaymentAnomaly, { kind, key, outTradeNo, detail: detail as any, resolved: false });
}

/** HB + China time to the second + 8 random digits: 24 characters, unique and sortable. */
export function newOutTradeNo(now: Date): string {
  const t = formatChinaTime(now, true).replace(/\D/g, '');
  return `HB${t}${crypto.randomInt(0, 100_000_000).toString().padStart(8, '0')}`;
}

export function errInfo(err: unknown) {
  const e = err as any;
  return { ...errorSummary(err), status: e?.status };
}
