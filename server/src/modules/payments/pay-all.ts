import crypto from 'node:crypto';
import { In, MoreThan, type EntityManager } from 'typeorm';
import { formatFen, seasonLabel, type PayAllRequest, type PaymentOrderView } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { isUniqueViolation, withTx } from '../../platform/db/data-source';
import { PaymentOrder, PaymentOrderLine } from './entities';
import type { PaymentsOptions } from './service';
import type { OrderSweeper } from './sweeper';
import { savePendingOrder } from './support';

type Resident = { residentId: number; openid: string };

/** The pending key of a pay-all order: one per account, payer and set of bills (fits the 24-character column). */
export function payAllKey(accountId: number, residentId: number, billIds: readonly number[]): string {
  const set = [...billIds].sort((a, b) => a - b).join(',');
  return 'A' + crypto.createHash('sha256').update(`${accountId}:${residentId}:${set}`).digest('hex').slice(0, 23);
}

/** What each bill of an order pays: its lines, or for an order of one bill the order itself. */
export async function linesOf(em: EntityManager, orders: readonly PaymentOrder[]): Promise<Map<number, Omit<PaymentOrderLine, 'id' | 'orderId'>[]>> {
  const multi = orders.filter((o) => o.billCount > 1).map((o) => o.id);
  const rows = multi.length ? await em.find(PaymentOrderLine, { where: { orderId: In(multi) }, order: { id: 'ASC' } }) : [];
  const out = new Map<number, Omit<PaymentOrderLine, 'id' | 'orderId'>[]>();
  for (const o of orders) {
    const lines = o.billCount > 1 ? rows.filter((l) => l.orderId === o.id) : [];
    out.set(
      o.id,
      lines.length
        ? lines.map((l) => ({ billId: l.billId, amountFen: Number(l.amountFen), discountFen: Number(l.discountFen), lateFeeFen: Number(l.lateFeeFen) }))
        : [{ billId: o.billId, amountFen: o.amountFen, discountFen: o.discountFen, lateFeeFen: o.lateFeeFen }],
    );
  }
  return out;
}

/**
 * Pending orders that WeChat could still take money for and that cover any of these bills: orders
 * of one bill, and pay-all orders through their lines (`payAllOnly`: only the latter).
 */
export async function pendingCovering(em: EntityManager, billIds: readonly number[], now: Date, payAllOnly = false): Promise<PaymentOrder[]> {
  if (!billIds.length) return [];
  const live = { status: 'pending' as const, expiresAt: MoreThan(now) };
  const viaLines = await em
    .createQueryBuilder(PaymentOrderLine, 'l')
    .select('DISTINCT l.orderId', 'id')
    .where('l.billId IN (:...ids)', { ids: billIds })
    .getRawMany<{ id: number | string }>();
  const ids = viaLines.map((r) => Number(r.id));
  const where: any[] = [];
  if (ids.length) where.push({ id: In(ids), ...live });
  if (!payAllOnly) where.push({ billId: In([...billIds]), ...live });
  return where.length ? em.find(PaymentOrder, { where, order: { id: 'ASC' } }) : [];
}

/**
 * 一键缴清: one WeChat order that pays every unpaid bill of one account, oldest first, one line
 * per bill (priced like the bill view). The resident sends the bills the page showed; a set that
 * changed meanwhile (a bill paid at the counter, a new season issued) is refused with the current
 * set (PAY_ALL_CHANGED) so the page can show it again. A bill in another payer's pending order is
 * refused (BILL_IN_PENDING_ORDER); the resident's own pending orders for these bills are closed
 * first (the new order replaces them). One bill left: the ordinary order of one bill.
 */
export class PayAllOrders {
  constructor(
    private o: PaymentsOptions,
    private sweeper: OrderSweeper,
    private ttlMs: number,
    private single: (resident: Resident, billId: number) => Promise<PaymentOrderView>,
    private prepay: (order: PaymentOrder) => Promise<PaymentOrderView>,
    private view: (order: PaymentOrder) => Promise<PaymentOrderView>,
  ) {}

  async create(resident: Resident, req: PayAllRequest): Promise<PaymentOrderView> {
    const now = this.o.clock();
    await this.o.accounts.assertBound(resident.residentId, req.accountId).catch(() => {
      throw new AppError('BINDING_NOT_FOUND');
    });
    const current = await withTx(this.o.ds, (em) => this.o.billing.lockUnpaidOfAccount(em, req.accountId, now));
    this.assertSameSet(current, req.billIds);
    if (current.length === 1) return this.single(resident, current[0]!.bill.id);
    const billIds = current.map((c) => c.bill.id);
    const pendingKey = payAllKey(req.accountId, resident.residentId, billIds);
    const repo = this.o.ds.getRepository(PaymentOrder);

    const existing = await repo.findOne({ where: { pendingKey } });
    if (existing?.payParams && existing.expiresAt.getTime() - now.getTime() > 60_000) return this.view(existing);
    // the payer's own pending orders for these bills (this set about to expire, one bill, another set): replaced
    const mine = (await pendingCovering(this.o.ds.manager, billIds, now)).filter((x) => x.residentId === resident.residentId);
    if (existing && !mine.some((x) => x.id === existing.id)) mine.push(existing);
    for (const old of mine) await this.sweeper.closeAtWechat(old);

    const account = await this.o.accounts.account(req.accountId);
    let order: PaymentOrder;
    try {
      order = await withTx(this.o.ds, async (em) => {
        // locked again, priced again: what is charged is what is due now
        const bills = await this.o.billing.lockUnpaidOfAccount(em, req.accountId, now);
        this.assertSameSet(bills, req.billIds);
        const blocking = await pendingCovering(em, billIds, now);
        if (blocking.length) {
          throw new AppError('BILL_IN_PENDING_ORDER', { orders: blocking.map((b) => ({ outTradeNo: b.outTradeNo, expiresAt: b.expiresAt.toISOString() })) });
        }
        const sum = (k: 'dueFen' | 'discountFen' | 'lateFeeFen') => bills.reduce((s, b) => s + b.quote[k], 0);
        const first = seasonLabel(bills[0]!.season).replace('采暖季', '');
        const last = seasonLabel(bills[bills.length - 1]!.season).replace('采暖季', '');
        return savePendingOrder(
          em,
          now,
          this.ttlMs,
          resident,
          {
            billId: bills[0]!.bill.id,
            billCount: bills.length,
            accountId: req.accountId,
            description: `${first}至${last}热费${bills.length}期-户号${account?.accountNo ?? ''}`,
            amountFen: sum('dueFen'),
            discountFen: sum('discountFen'),
            lateFeeFen: sum('lateFeeFen'),
            pendingKey,
          },
          {
            transitionData: { billIds },
            onSaved: async (row) => {
              await em.insert(
                PaymentOrderLine,
                bills.map((b) => ({
                  orderId: row.id,
                  billId: b.bill.id,
                  amountFen: b.quote.dueFen,
                  discountFen: b.quote.discountFen,
                  lateFeeFen: b.quote.lateFeeFen,
                })),
              );
            },
          },
        );
      });
    } catch (err) {
      // a concurrent tap created it first: answer with that one
      if (isUniqueViolation(err)) {
        const other = await repo.findOne({ where: { pendingKey } });
        if (other?.payParams) return this.view(other);
        throw new AppError('CONFLICT');
      }
      throw err;
    }
    return this.prepay(order);
  }

  /** The bills the resident saw must be the bills due now (same set); otherwise the current set, to show again. */
  private assertSameSet(current: { bill: { id: number }; season: string; quote: { dueFen: number } }[], seen: readonly number[]) {
    const a = current.map((c) => c.bill.id).sort((x, y) => x - y);
    const b = [...new Set(seen)].sort((x, y) => x - y);
    if (a.length === b.length && a.every((id, i) => id === b[i])) return;
    const totalFen = current.reduce((s, c) => s + c.quote.dueFen, 0);
    throw new AppError('PAY_ALL_CHANGED', {
      bills: current.map((c) => ({ billId: c.bill.id, season: c.season, dueFen: c.quote.dueFen })),
      totalFen,
    }).say(current.length ? `待缴账单有变化，现需缴${formatFen(totalFen)}（${current.length}笔），请确认后重新缴费` : '该户号已无待缴账单，无需缴费');
  }
}
