import { In, type DataSource } from 'typeorm';
import type { BillingService } from '../billing';
import { LedgerEntry, PaymentOrder, Refund } from './entities';

/** keys per IN list of an entity query (TypeORM's parameter handling grows with the square of the list) */
const IN_PART = 200;

/**
 * A movement of the ledger as the trade-bill matching needs it: the entries of one trade ref (one,
 * or one per bill of a 一键缴清 order), summed.
 */
export interface LedgerHit {
  /** the first entry's id */
  id: number;
  /** every entry's id (the bill row matches them all) */
  ids: number[];
  amountFen: number;
  transactionId: string | null;
}

/** How a bill paid twice was settled first: by a WeChat order, or at the company's counter. */
export type FirstSettlement = { via: 'wechat'; order: PaymentOrder } | { via: 'counter'; paidAt: Date | null };

/** One bill a payment paid again, with the automatic refunds of that part. */
export interface DoublePayment {
  /** the payment that came second */
  order: PaymentOrder;
  billId: number;
  /** the part of the payment that paid the bill again (the whole order unless 一键缴清) */
  amountFen: number;
  /** the order's duplicate refunds of this bill, oldest first, with the part each gives back */
  refunds: { refund: Refund; amountFen: number }[];
  /** null when the bill's settlement is not known (not paid any more: a reversal) */
  first: FirstSettlement | null;
}

/**
 * Read-only queries over the payments ledger, orders and refunds for reconciliation: payments
 * owns these tables, so the SQL stays here (reached through `PaymentsService.ledgerQueries`).
 */
export class LedgerQueries {
  private lookupSql: { ref?: string; tradeRef?: string } = {};

  constructor(
    private ds: DataSource,
    private billing: Pick<BillingService, 'billsByIds'>,
  ) {}

  /** The smallest and largest ledger entry id written in [start, end). */
  async idRange(start: Date, end: Date): Promise<{ lo: number; hi: number }> {
    const range = await this.ds
      .getRepository(LedgerEntry)
      .createQueryBuilder('l')
      .select('MIN(l.id)', 'lo')
      .addSelect('MAX(l.id)', 'hi')
      .where('l.at >= :start AND l.at < :end', { start, end })
      .getRawOne<{ lo: number | string | null; hi: number | string | null }>();
    return { lo: Number(range?.lo ?? 1), hi: Number(range?.hi ?? 0) };
  }

  /**
   * A page of [start, end)'s ledger, ids and amounts only, by id; `part` names the trade ref of an
   * entry that is one bill's part of a movement (null for a whole movement).
   */
  async page(start: Date, end: Date, afterId: number, limit: number): Promise<{ id: number; kind: string; amountFen: number; part: string | null }[]> {
    const rows = await this.ds
      .getRepository(LedgerEntry)
      .createQueryBuilder('l')
      .select('l.id', 'id')
      .addSelect('l.kind', 'kind')
      .addSelect('l.amountFen', 'amountFen')
      .addSelect('CASE WHEN l.ref = l.tradeRef THEN NULL ELSE l.tradeRef END', 'part')
      .where('l.at >= :start AND l.at < :end', { start, end })
      .andWhere('l.id > :afterId', { afterId })
      .orderBy('l.id', 'ASC')
      .limit(limit)
      .getRawMany<{ id: number | string; kind: string; amountFen: number | string; part: string | null }>();
    return rows.map((e) => ({ id: Number(e.id), kind: e.kind, amountFen: Number(e.amountFen), part: e.part ?? null }));
  }

  /** The entries of some ids (any number, IN_PART per query). */
  async entriesByIds(ids: number[]): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    for (let i = 0; i < ids.length; i += IN_PART) out.push(...(await this.ds.getRepository(LedgerEntry).findBy({ id: In(ids.slice(i, i + IN_PART)) })));
    return out;
  }

  entry(id: number): Promise<LedgerEntry | null> {
    return this.ds.getRepository(LedgerEntry).findOneBy({ id });
  }

  /** The ids of a trade ref's entries (one, or one per bill of a 一键缴清 order), by id. */
  async idsOfRef(tradeRef: string): Promise<number[]> {
    const rows = await this.ds.getRepository(LedgerEntry).find({ where: { tradeRef }, select: { id: true }, order: { id: 'ASC' } });
    return rows.map((e) => e.id);
  }

  /**
   * The ledger's whole movements of some trade refs (`pay:<out_trade_no>`, `refund:<out_refund_no>`):
   * the entries whose own ref is the trade ref, found through the unique ref index. A movement split
   * per bill (一键缴清: refs `<tradeRef>:<billId>`) is not among them; `splitMovements` finds those.
   * Not `tradeRef IN (…)`: that index is not unique, and with its statistics stale (a ledger that grew
   * since they were taken) MariaDB scans the whole ledger for every batch (6,000 rows/s at 200,000).
   */
  byRefs(refs: string[]): Promise<Map<string, LedgerHit>> {
    return this.hits('ref', refs);
  }

  /**
   * The movements split per bill among some orders and refunds (an order of several bills, a refund
   * with lines), by trade ref, their entries summed; few (only 一键缴清), so the index's plan is cheap.
   */
  splitMovements(orders: PaymentOrder[], refunds: Refund[]): Promise<Map<string, LedgerHit>> {
    const refs = [
      ...orders.filter((o) => o.billCount > 1).map((o) => `pay:${o.outTradeNo}`),
      ...refunds.filter((r) => r.lines).map((r) => `refund:${r.outRefundNo}`),
    ];
    return this.hits('tradeRef', refs);
  }

  /** Movements by one key column: one raw query per 1000 keys, four columns, no entity hydration. */
  private async hits(by: 'ref' | 'tradeRef', keys: string[]): Promise<Map<string, LedgerHit>> {
    const out = new Map<string, LedgerHit>();
    if (!keys.length) return out;
    const meta = this.ds.getMetadata(LedgerEntry);
    const q = (s: string) => this.ds.driver.escape(s);
    const col = (p: string) => q(meta.findColumnWithPropertyName(p)!.databaseName);
    const sql = (this.lookupSql[by] ??=
      `SELECT ${col('id')} AS id, ${col('tradeRef')} AS ref, ${col('amountFen')} AS amountFen, ${col('transactionId')} AS transactionId FROM ${q(meta.tableName)} WHERE ${col(by)} IN `);
    for (let i = 0; i < keys.length; i += 1000) {
      const part = keys.slice(i, i + 1000);
      const res: { id: number | string; ref: string; amountFen: number | string; transactionId: string | null }[] = await this.ds.query(
        sql + `(${part.map(() => '?').join(',')})`,
        part,
      );
      for (const r of res) {
        const id = Number(r.id);
        const hit = out.get(r.ref);
        if (!hit) out.set(r.ref, { id, ids: [id], amountFen: Number(r.amountFen), transactionId: r.transactionId });
        else {
          hit.ids.push(id);
          hit.amountFen += Number(r.amountFen);
          if (id < hit.id) hit.id = id;
        }
      }
    }
    return out;
  }

  /** The orders of some out_trade_nos (any number: see `byKeys`). */
  ordersByOutTradeNos(nos: string[]): Promise<PaymentOrder[]> {
    return this.byKeys(PaymentOrder, 'outTradeNo', nos);
  }

  /** The refunds of some out_refund_nos (any number: see `byKeys`). */
  refundsByOutRefundNos(nos: string[]): Promise<Refund[]> {
    return this.byKeys(Refund, 'outRefundNo', nos);
  }

  /**
   * The entities of `keys` in a uniquely indexed column: which keys exist is asked first with one raw
   * query per 1000 keys (a bill's rows the ledger lacks are mostly unknown here too), and only those
   * are loaded as entities, IN_PART at a time (TypeORM's parameter handling grows with the square of
   * the list; a bill where nothing matches built 5 entity queries per 1,000 rows for nothing).
   */
  private async byKeys<T extends PaymentOrder | Refund>(entity: new () => T, property: 'outTradeNo' | 'outRefundNo', keys: string[]): Promise<T[]> {
    const meta = this.ds.getMetadata(entity);
    const q = (s: string) => this.ds.driver.escape(s);
    const col = q(meta.findColumnWithPropertyName(property)!.databaseName);
    const found: string[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const part = keys.slice(i, i + 1000);
      const rows: { k: string }[] = await this.ds.query(
        `SELECT ${col} AS k FROM ${q(meta.tableName)} WHERE ${col} IN (${part.map(() => '?').join(',')})`,
        part,
      );
      for (const r of rows) found.push(r.k);
    }
    const out: T[] = [];
    for (let i = 0; i < found.length; i += IN_PART)
      out.push(...(await this.ds.getRepository<T>(entity).find({ where: { [property]: In(found.slice(i, i + IN_PART)) } as any })));
    return out;
  }

  /**
   * The bills paid again by a payment made in [start, end): a whole order whose bill was already
   * paid, or the bills of a 一键缴清 order paid meanwhile (at the counter, by another order), each
   * with the automatic refunds of its part and how the bill was settled first. The system refunds
   * every duplicate it credits, so the (small) refund table leads the search.
   */
  async duplicates(start: Date, end: Date): Promise<DoublePayment[]> {
    const refunds = await this.ds
      .getRepository(Refund)
      .createQueryBuilder('r')
      .where("r.kind = 'duplicate'")
      .andWhere('r.createdAt >= :start', { start })
      .orderBy('r.id', 'ASC')
      .getMany();
    if (!refunds.length) return [];
    const orders = await this.ds
      .getRepository(PaymentOrder)
      .createQueryBuilder('o')
      .where('o.id IN (:...ids)', { ids: [...new Set(refunds.map((r) => r.orderId))] })
      .andWhere('o.paidAt >= :start AND o.paidAt < :end', { start, end })
      .orderBy('o.paidAt', 'ASC')
      .addOrderBy('o.id', 'ASC')
      .getMany();
    const out: DoublePayment[] = [];
    for (const order of orders) {
      const byBill = new Map<number, DoublePayment>();
      for (const refund of refunds.filter((r) => r.orderId === order.id)) {
        // an order of one bill: its refund is that bill's; a 一键缴清 refund names its bills
        for (const line of refund.lines ?? [{ billId: order.billId, amountFen: Number(refund.amountFen) }]) {
          // the part paid twice: what its first refund gives back (a retried refund is the same part again)
          let d = byBill.get(line.billId);
          if (!d) byBill.set(line.billId, (d = { order, billId: line.billId, amountFen: line.amountFen, refunds: [], first: null }));
          d.refunds.push({ refund, amountFen: line.amountFen });
        }
      }
      out.push(...byBill.values());
    }
    const bills = new Map((await this.billing.billsByIds(out.map((d) => d.billId))).map((b) => [b.id, b]));
    const firstIds = [...new Set([...bills.values()].map((b) => b.paidOrderId).filter((id): id is number => id !== null))];
    const firstOrders = new Map((firstIds.length ? await this.ds.getRepository(PaymentOrder).find({ where: { id: In(firstIds) } }) : []).map((o) => [o.id, o]));
    for (const d of out) {
      const bill = bills.get(d.billId);
      if (bill?.paidVia === 'counter') d.first = { via: 'counter', paidAt: bill.paidAt };
      else if (bill?.paidOrderId && bill.paidOrderId !== d.order.id && firstOrders.has(bill.paidOrderId))
        d.first = { via: 'wechat', order: firstOrders.get(bill.paidOrderId)! };
    }
    return out;
  }
}
