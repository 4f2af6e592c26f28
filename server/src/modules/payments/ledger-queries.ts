import { In, type DataSource } from 'typeorm';
import { LedgerEntry, PaymentOrder, Refund } from './entities';

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

/**
 * Read-only queries over the payments ledger, orders and refunds for reconciliation: payments
 * owns these tables, so the SQL stays here (reached through `PaymentsService.ledgerQueries`).
 */
export class LedgerQueries {
  private lookupSql: string | null = null;

  constructor(private ds: DataSource) {}

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

  entriesByIds(ids: number[]): Promise<LedgerEntry[]> {
    return ids.length ? this.ds.getRepository(LedgerEntry).findBy({ id: In(ids) }) : Promise.resolve([]);
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
   * The ledger's movements of some trade refs (`pay:<out_trade_no>`, `refund:<out_refund_no>`),
   * their entries summed: one raw query per 1000 refs, four columns, no entity hydration.
   */
  async byRefs(refs: string[]): Promise<Map<string, LedgerHit>> {
    if (!this.lookupSql) {
      const meta = this.ds.getMetadata(LedgerEntry);
      const q = (s: string) => this.ds.driver.escape(s);
      const col = (p: string) => q(meta.findColumnWithPropertyName(p)!.databaseName);
      this.lookupSql = `SELECT ${col('id')} AS id, ${col('tradeRef')} AS ref, ${col('amountFen')} AS amountFen, ${col('transactionId')} AS transactionId FROM ${q(meta.tableName)} WHERE ${col('tradeRef')} IN `;
    }
    const out = new Map<string, LedgerHit>();
    for (let i = 0; i < refs.length; i += 1000) {
      const part = refs.slice(i, i + 1000);
      const res: { id: number | string; ref: string; amountFen: number | string; transactionId: string | null }[] = await this.ds.query(
        this.lookupSql + `(${part.map(() => '?').join(',')})`,
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

  ordersByOutTradeNos(nos: string[]): Promise<PaymentOrder[]> {
    return nos.length ? this.ds.getRepository(PaymentOrder).find({ where: { outTradeNo: In(nos) } }) : Promise.resolve([]);
  }

  refundsByOutRefundNos(nos: string[]): Promise<Refund[]> {
    return nos.length ? this.ds.getRepository(Refund).find({ where: { outRefundNo: In(nos) } }) : Promise.resolve([]);
  }

  /**
   * Duplicate payments made in [start, end) with their refunds and the payments that settled
   * the same bills. The system refunds every duplicate it credits, so the (small) refund table
   * leads the search.
   */
  async duplicates(start: Date, end: Date): Promise<{ refunds: Refund[]; duplicates: PaymentOrder[]; kept: PaymentOrder[] }> {
    const refunds = await this.ds
      .getRepository(Refund)
      .createQueryBuilder('r')
      .where("r.kind = 'duplicate'")
      .andWhere('r.createdAt >= :start', { start })
      .orderBy('r.id', 'ASC')
      .getMany();
    if (!refunds.length) return { refunds, duplicates: [], kept: [] };
    const duplicates = await this.ds
      .getRepository(PaymentOrder)
      .createQueryBuilder('o')
      .where('o.id IN (:...ids)', { ids: [...new Set(refunds.map((r) => r.orderId))] })
      .andWhere('o.duplicate = :yes', { yes: true })
      .andWhere('o.paidAt >= :start AND o.paidAt < :end', { start, end })
      .orderBy('o.paidAt', 'ASC')
      .getMany();
    if (!duplicates.length) return { refunds, duplicates, kept: [] };
    const kept = await this.ds.getRepository(PaymentOrder).find({ where: { billId: In(duplicates.map((o) => o.billId)), status: 'paid', duplicate: false } });
    return { refunds, duplicates, kept };
  }
}
