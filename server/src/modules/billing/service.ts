import { In, type EntityManager } from 'typeorm';
import {
  type BillSummary,
  chinaDate,
  formatFen,
  quoteAmounts,
  seasonCharge,
  seasonLabel,
  type BillKind,
  type BillList,
  type BillView,
  type CompanyRules,
  type SeasonRules,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, rawQuery, withTx } from '../../platform/db/data-source';
import { Bill, Season } from './entities';
import { BillingIssuing } from './issuing';
import { BILL_SUMMARY_COLUMNS, heatOff, rawBillFigures, rawSeason, SEASON_COLUMNS, seasonView, selectList, toSummary, toView } from './views';

export { seasonView };
export type { SeasonRules };

/** Seasons, tariffs and bills: what each account owes for each season, priced for a given day. */
export class BillingService extends BillingIssuing {
  /** Every bill of a season with its account number (imports, exports, demo). */
  async billsOfSeason(code: string): Promise<{ id: number; accountId: number; accountNo: string; status: string }[]> {
    const season = await this.seasonByCode(code);
    const bills = await this.ds
      .getRepository(Bill)
      .find({ select: { id: true, accountId: true, status: true }, where: { seasonId: season.id }, order: { id: 'ASC' } });
    const nos = await this.accounts.accountNosByIds(bills.map((b) => b.accountId));
    return bills.map((b) => ({ id: b.id, accountId: b.accountId, accountNo: nos.get(b.accountId) ?? '', status: b.status }));
  }

  /** Record a bill paid at the company's counter (imports from the billing system, demo data). */
  async settleAtCounter(billId: number, at: Date): Promise<void> {
    await withTx(this.ds, async (em) => {
      const bill = await this.lockBill(em, billId);
      if (bill.status !== 'unpaid') return;
      const q = await this.quoteFor(em, bill, at);
      await em.update(Bill, bill.id, {
        status: 'paid',
        paidVia: 'counter',
        paidFen: bill.paidFen + q.dueFen,
        discountFen: bill.discountFen + q.discountFen,
        lateFeeFen: bill.lateFeeFen + q.lateFeeFen,
        paidAt: at,
      });
      await this.events.emit(em, 'bill.settled_at_counter', [{ billId: bill.id, accountId: bill.accountId }]);
    });
  }

  // ---- what residents see ---------------------------------------------------------------------

  /**
   * Every bill of the resident's bound accounts, as summaries (the lines are the detail's): unpaid
   * first (oldest season first), then paid. One query (bills with their seasons, joined by accounts
   * to the resident's bound accounts with their addresses and status): the bill list is the app's
   * busiest read (bench/bills.ts).
   */
  async listForResident(residentId: number): Promise<BillList> {
    // the company's rules while the database reads the rows
    const [rows, rules] = await Promise.all([
      rawQuery(
        this.ds,
        'bills of a resident',
        () =>
          this.accounts.joinBoundAccounts(
            this.ds
              .createQueryBuilder()
              .from(Bill, 'b')
              .innerJoin(Season, 's', 's.id = b.seasonId')
              .select(selectList(BILL_SUMMARY_COLUMNS))
              .addSelect(selectList(SEASON_COLUMNS)),
            'b.accountId',
            residentId,
          ),
        [residentId],
      ),
      this.rules(),
    ]);
    const today = chinaDate(this.clock());
    const items = rows.map((r) => {
      const a = this.accounts.boundAccountOf(r);
      // heat on or off: no late fee while off
      return toSummary(rawBillFigures(r), rawSeason(r), a.accountNo, a.address, today, { heatOff: heatOff(a.status, rules), payFirst: null });
    });
    // arrears first: an unpaid bill with earlier seasons of its account still due points at the
    // oldest, with what all of those earlier seasons are due (each account's due bills, oldest first)
    const dueByAccount = new Map<number, BillSummary[]>();
    for (const o of items) {
      if (o.status !== 'unpaid' || o.dueFen <= 0) continue;
      const due = dueByAccount.get(o.accountId);
      if (due) due.push(o);
      else dueByAccount.set(o.accountId, [o]);
    }
    for (const due of dueByAccount.values()) due.sort((x, y) => x.season.localeCompare(y.season));
    for (const it of items) {
      if (it.status !== 'unpaid') continue;
      const due = dueByAccount.get(it.accountId);
      const oldest = due?.[0];
      if (!oldest || oldest.season >= it.season) continue;
      let dueFen = 0;
      for (const o of due) if (o.season < it.season) dueFen += o.dueFen;
      it.payFirst = { billId: oldest.id, season: oldest.season, seasonLabel: oldest.seasonLabel, dueFen };
    }
    items.sort((a, b) => {
      const ua = a.status === 'unpaid' ? 0 : 1;
      const ub = b.status === 'unpaid' ? 0 : 1;
      if (ua !== ub) return ua - ub;
      if (ua === 0) return a.season.localeCompare(b.season) || a.accountNo.localeCompare(b.accountNo);
      return b.season.localeCompare(a.season) || a.accountNo.localeCompare(b.accountNo);
    });
    return { items, totalDueFen: items.filter((b) => b.status === 'unpaid').reduce((sum, b) => sum + b.dueFen, 0) };
  }

  /** One bill of an account bound to the resident (NOT_FOUND otherwise: no probing of others' bills). */
  async billForResident(residentId: number, billId: number): Promise<BillView> {
    const bill = await this.ds.getRepository(Bill).findOne({ where: { id: billId } });
    if (!bill) throw new AppError('BILL_NOT_FOUND');
    await this.accounts.assertBound(residentId, bill.accountId).catch(() => {
      throw new AppError('BILL_NOT_FOUND');
    });
    return (await this.present([bill]))[0]!;
  }

  async bill(billId: number): Promise<Bill | null> {
    return this.ds.getRepository(Bill).findOne({ where: { id: billId } });
  }

  async billsByIds(ids: number[]): Promise<Bill[]> {
    return ids.length ? this.ds.getRepository(Bill).find({ where: { id: In([...new Set(ids)]) } }) : [];
  }

  async present(bills: Bill[]): Promise<BillView[]> {
    if (!bills.length) return [];
    const seasons = new Map(
      (await this.ds.getRepository(Season).find({ where: { id: In([...new Set(bills.map((b) => b.seasonId))]) } })).map((s) => [s.id, s]),
    );
    const accounts = await this.accounts.accountsByIds(bills.map((b) => b.accountId));
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const ctx = await this.accounts.addressContext(accounts);
    const today = chinaDate(this.clock());
    const rules = await this.rules();
    const earlier = await this.unpaidEarlier(this.ds.manager, bills);
    return bills.map((b) => {
      const account = byId.get(b.accountId)!;
      const first = earlier.get(b.id)?.[0];
      return toView(b, seasons.get(b.seasonId)!, account.accountNo, ctx.address(account), today, {
        heatOff: heatOff(account.status, rules),
        payFirst: first
          ? { billId: first.billId, season: first.season, seasonLabel: seasonLabel(first.season), dueFen: earlier.get(b.id)!.reduce((s, x) => s + x.dueFen, 0) }
          : null,
      });
    });
  }

  /** Unpaid bills of seasons before `seasonCode` (arrears), priced for today. */
  async unpaidBefore(accountId: number, seasonCode: string): Promise<BillView[]> {
    const bills = await this.ds
      .getRepository(Bill)
      .createQueryBuilder('b')
      .innerJoin(Season, 's', 's.id = b.seasonId')
      .where('b.accountId = :accountId AND b.status = :status AND s.code < :code', { accountId, status: 'unpaid', code: seasonCode })
      .getMany();
    return this.present(bills);
  }

  /**
   * Stop/resume: re-price an account's season bill to the full or the base fee, inside the
   * caller's transaction (issuing the bill if the season's bills are not out yet). The bill keeps
   * the area and unit price it was issued with. An unpaid bill just changes; a paid bill moving to
   * 'full' opens again for the difference; a paid bill moving to 'base' stays paid and reports
   * what was paid over the base fee (overpaidFen, for finance to refund).
   */
  async reprice(em: EntityManager, accountId: number, seasonId: number, kind: BillKind): Promise<{ bill: Bill; overpaidFen: number }> {
    const season = await em.findOneByOrFail(Season, { id: seasonId });
    const bill = await forUpdate(
      em.createQueryBuilder(Bill, 'b').where('b.accountId = :accountId AND b.seasonId = :seasonId', { accountId, seasonId }),
    ).getOne();
    if (!bill) {
      const account = await this.accounts.accountOrFail(accountId, em);
      await em.insert(Bill, this.newBill(season, account, kind));
      return { bill: await em.findOneByOrFail(Bill, { accountId, seasonId }), overpaidFen: 0 };
    }
    if (bill.status === 'void') throw new AppError('BILL_VOID');
    if (bill.kind === kind) return { bill, overpaidFen: 0 };
    const price = { tariffs: { residential: bill.unitPriceFen, commercial: bill.unitPriceFen }, baseFeeRatioBp: season.baseFeeRatioBp };
    const { chargeFen, lines } = seasonCharge({ heatedArea: bill.heatedArea, use: 'residential', kind, season: price });
    const patch: Partial<Bill> = { kind, chargeFen, lines };
    let overpaidFen = 0;
    if (bill.status === 'paid' && kind === 'full') {
      patch.status = 'unpaid';
    } else if (bill.paidFen > 0 && kind === 'base') {
      // what the base fee would have cost on the day it was paid
      const q = quoteAmounts({ chargeFen, paidFen: 0 }, season, chinaDate(bill.paidAt ?? this.clock()));
      overpaidFen = Math.max(0, bill.paidFen - q.dueFen);
      patch.status = 'paid';
      patch.discountFen = q.discountFen;
      patch.lateFeeFen = q.lateFeeFen;
      if (overpaidFen > 0) patch.lines = [...lines, { label: '报停应退', detail: '已缴金额超出基础热费的部分，由财务退回', amountFen: overpaidFen }];
    }
    await em.update(Bill, bill.id, patch);
    return { bill: Object.assign(bill, patch), overpaidFen };
  }

  /**
   * The arrears an application of `kind` must clear first: a stop (报停) always, a resume (复供)
   * when the company's rule says so (serviceChange.resumeRequiresArrearsCleared). Null when none.
   */
  async arrearsBlocking(accountId: number, seasonCode: string, kind: 'stop' | 'resume', rules: Pick<CompanyRules, 'serviceChange'>) {
    if (kind === 'resume' && !rules.serviceChange.resumeRequiresArrearsCleared) return null;
    const bills = await this.unpaidBefore(accountId, seasonCode);
    const totalFen = bills.reduce((s, b) => s + b.dueFen, 0);
    if (totalFen <= 0) return null;
    return {
      totalFen,
      bills: bills.map((b) => ({ billId: b.id, season: b.season, dueFen: b.dueFen })),
      message: `该户号有欠费${formatFen(totalFen)}未缴清，请先缴清欠费再${kind === 'stop' ? '报停' : '复供'}`,
    };
  }
}
