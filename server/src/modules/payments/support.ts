import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { formatChinaTime } from '@heat-butler/shared';
import { errorSummary } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { recordTransition } from '../../platform/state';
import { PaymentAnomaly, PaymentOrder } from './entities';

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

/** What differs between a one-bill order and a pay-all order; the rest of a new pending order is the same. */
export interface NewOrder {
  billId: number;
  billCount: number;
  accountId: number;
  description: string;
  amountFen: number;
  discountFen: number;
  lateFeeFen: number;
  pendingKey: string;
}

/**
 * Saves a new pending order (description cut to WeChat's 40 characters) and records its first
 * transition; `onSaved` runs before the transition is recorded (pay-all writes its lines there).
 */
export async function savePendingOrder(
  em: EntityManager,
  now: Date,
  ttlMs: number,
  resident: { residentId: number; openid: string },
  o: NewOrder,
  opts: { transitionData?: Record<string, unknown>; onSaved?: (row: PaymentOrder) => Promise<void> } = {},
): Promise<PaymentOrder> {
  const row = em.create(PaymentOrder, {
    ...o,
    outTradeNo: newOutTradeNo(now),
    residentId: resident.residentId,
    openid: resident.openid,
    description: o.description.slice(0, 40),
    status: 'pending',
    payParams: null,
    transactionId: null,
    expiresAt: new Date(now.getTime() + ttlMs),
    paidAt: null,
    creditedBy: null,
    duplicate: false,
    refundedFen: 0,
  });
  await em.save(row);
  await opts.onSaved?.(row);
  await recordTransition(
    em,
    'payment_order',
    row.id,
    null,
    'pending',
    { kind: 'resident', id: resident.residentId, as: ['resident'] },
    null,
    opts.transitionData,
  );
  return row;
}
