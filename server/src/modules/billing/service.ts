import { In, type DataSource, type EntityManager } from 'typeorm';
import {
  chinaDate,
  quoteBill,
  seasonCharge,
  seasonLabel,
  SeasonInput,
  type BillKind,
  type BillView,
  type Quote,
  type SeasonRules,
  type SeasonView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { Account } from '../accounts/entities';
import type { AccountsService } from '../accounts/service';
import { Bill, Season } from './entities';

/** Seasons, tariffs and bills: what each account owes for each season, priced for a given day. */
export class BillingService {
  constructor(
    private ds: DataSource,
    private accounts: AccountsService,
    private clock: () => Date,
  ) {}

  // ---- seasons --------------------------------------------------------------------------------

  async createSeason(input: SeasonInput): Promise<SeasonView> {
    const rules = SeasonInput.parse(input);
    try {
      const season = await this.ds.getRepository(Season).save(this.ds.getRepository(Season).create(rules));
      return seasonView(season);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('SEASON_EXISTS');
      throw err;
    }
  }

  /** Change a season's rules. Bills already issued keep their charge; new ones use the new tariff. */
  async updateSeason(code: string, input: SeasonInput): Promise<SeasonView> {
    const rules = SeasonInput.parse({ ...input, code });
    const repo = this.ds.getRepository(Season);
    const season = await repo.findOne({ where: { code } });
    if (!season) throw new AppError('SEASON_NOT_FOUND');
    Object.assign(season, rules);
    return seasonView(await repo.save(season));
  }

  async seasons(): Promise<SeasonView[]> {
    return (await this.ds.getRepository(Season).find({ order: { code: 'DESC' } })).map(seasonView);
  }

  async seasonByCode(code: string): Promise<Season> {
    const season = await this.ds.getRepository(Season).findOne({ where: { code } });
    if (!season) throw new AppError('SEASON_NOT_FOUND');
    return season;
  }

  // ---- issuing bills ----------------------------------------------------------------------------

  /**
   * Issue the season's bill to every account that has none yet (re-runnable): the full fee, or
   * the base fee for a stopped account; closed accounts get none.
   */
  async issueBills(code: string): Promise<{ issued: number; existing: number }> {
    const season = await this.seasonByCode(code);
    const accounts = await this.ds.getRepository(Account).find({ where: { status: In(['active', 'stopped', 'sealed']) }, order: { id: 'ASC' } });
    const have = new Set(
      (await this.ds.getRepository(Bill).find({ select: { accountId: true }, where: { seasonId: season.id } })).map((b) => b.accountId),
    );
    const rows = accounts.filter((a) => !have.has(a.id)).map((a) => this.newBill(season, a, a.status === 'stopped' ? 'base' : 'full'));
    for (let i = 0; i < rows.length; i += 500) await this.ds.getRepository(Bill).insert(rows.slice(i, i + 500));
    return { issued: rows.length, existing: have.size };
  }

  private newBill(season: Season, account: Account, kind: BillKind): Partial<Bill> {
    const { chargeFen, lines } = seasonCharge({ heatedArea: account.heatedArea, use: account.use, kind, season });
    return {
      accountId: account.id,
      seasonId: season.id,
      kind,
      status: 'unpaid',
      heatedArea: account.heatedArea,
      unitPriceFen: season.tariffs[account.use],
      chargeFen,
      paidFen: 0,
      discountFen: 0,
      lateFeeFen: 0,
      lines,
      paidVia: null,
      paidOrderId: null,
      paidAt: null,
    };
  }

  /** Every bill of a season with its account number (imports, exports, demo). */
  async billsOfSeason(code: string): Promise<{ id: number; accountId: number; accountNo: string; status: string }[]> {
    const season = await this.seasonByCode(code);
    return this.ds
      .getRepository(Bill)
      .createQueryBuilder('b')
      .innerJoin(Account, 'a', 'a.id = b.accountId')
      .select(['b.id AS id', 'b.accountId AS accountId', 'a.accountNo AS accountNo', 'b.status AS status'])
      .where('b.seasonId = :id', { id: season.id })
      .orderBy('b.id', 'ASC')
      .getRawMany()
      .then((rows) => rows.map((r: any) => ({ id: Number(r.id), accountId: Number(r.accountId ?? r.accountid), accountNo: String(r.accountNo ?? r.accountno), status: r.status })));
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
        discountFen: q.discountFen,
        lateFeeFen: q.lateFeeFen,
        paidAt: at,
      });
    });
  }

  // ---- pricing and paying (called by payments inside its transactions) --------------------------

  async lockBill(em: EntityManager, billId: number): Promise<Bill> {
    const bill = await forUpdate(em.createQueryBuilder(Bill, 'b').where('b.id = :id', { id: billId })).getOne();
    if (!bill) throw new AppError('BILL_NOT_FOUND');
    return bill;
  }

  async quoteFor(em: EntityManager, bill: Bill, at: Date): Promise<Quote> {
    const season = await em.findOneByOrFail(Season, { id: bill.seasonId });
    return quoteBill(bill, season, chinaDate(at));
  }

  /**
   * Settle a bill with a WeChat payment, inside the payment's transaction. 'paid' when this
   * payment settled it; 'duplicate' when it had been settled already (the caller refunds).
   */
  async settleWithPayment(
    em: EntityManager,
    billId: number,
    payment: { orderId: number; amountFen: number; discountFen: number; lateFeeFen: number; at: Date },
  ): Promise<'paid' | 'duplicate'> {
    const bill = await this.lockBill(em, billId);
    if (bill.status !== 'unpaid') return 'duplicate';
    await em.update(Bill, bill.id, {
      status: 'paid',
      paidVia: 'wechat',
      paidOrderId: payment.orderId,
      paidFen: bill.paidFen + payment.amountFen,
      discountFen: payment.discountFen,
      lateFeeFen: payment.lateFeeFen,
      paidAt: payment.at,
    });
    return 'paid';
  }

  // ---- what residents see ---------------------------------------------------------------------

  /** Every bill of the resident's bound accounts: unpaid first (oldest season first), then paid. */
  async listForResident(residentId: number): Promise<{ items: BillView[]; totalDueFen: number }> {
    const bound = await this.accounts.listBound(residentId);
    if (!bound.length) return { items: [], totalDueFen: 0 };
    const bills = await this.ds.getRepository(Bill).find({ where: { accountId: In(bound.map((b) => b.accountId)) } });
    const items = await this.present(bills);
    items.sort((a, b) => {
      const ua = a.status === 'unpaid' ? 0 : 1;
      const ub = b.status === 'unpaid' ? 0 : 1;
      if (ua !== ub) return ua - ub;
      if (ua === 0) return a.season.localeCompare(b.season) || a.accountNo.localeCompare(b.accountNo);
      return b.season.localeCompare(a.season) || a.accountNo.localeCompare(b.accountNo);
    });
    return { items, totalDueFen: items.filter((b) => b.status === 'unpaid').reduce((s, b) => s + b.dueFen, 0) };
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

  async present(bills: Bill[], pendingOrders: Map<number, number> = new Map()): Promise<BillView[]> {
    if (!bills.length) return [];
    const seasons = new Map(
      (await this.ds.getRepository(Season).find({ where: { id: In([...new Set(bills.map((b) => b.seasonId))]) } })).map((s) => [s.id, s]),
    );
    const accounts = await this.ds.getRepository(Account).find({ where: { id: In([...new Set(bills.map((b) => b.accountId))]) } });
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const ctx = await this.accounts.addressContext(accounts);
    const today = chinaDate(this.clock());
    const latest = [...seasons.values()].reduce((m, s) => (s.code > m ? s.code : m), '');
    return bills.map((b) => {
      const season = seasons.get(b.seasonId)!;
      const account = byId.get(b.accountId)!;
      const q: Quote =
        b.status === 'unpaid'
          ? quoteBill(b, season, today)
          : { ...quoteBill({ ...b, paidFen: 0 }, { ...season, discountBp: 0, lateFeeDailyBp: 0 }, today), discountFen: b.discountFen, lateFeeFen: b.lateFeeFen, paidFen: b.paidFen, dueFen: 0 };
      const lines = b.status === 'unpaid' ? q.lines : frozenLines(b);
      return {
        id: b.id,
        accountId: b.accountId,
        accountNo: account.accountNo,
        address: ctx.address(account),
        season: season.code,
        seasonLabel: seasonLabel(season.code),
        kind: b.kind,
        status: b.status,
        arrears: b.status === 'unpaid' && season.code < latest && season.endDate < today,
        chargeFen: b.chargeFen,
        discountFen: q.discountFen,
        lateFeeFen: q.lateFeeFen,
        paidFen: b.paidFen,
        dueFen: b.status === 'unpaid' ? q.dueFen : 0,
        dueDate: season.dueDate,
        lines,
        paidAt: b.paidAt ? b.paidAt.toISOString() : null,
        pendingOrderId: pendingOrders.get(b.id) ?? null,
      };
    });
  }
}

/** A paid bill's computation as it was settled. */
function frozenLines(b: Bill) {
  const lines = [...b.lines];
  if (b.discountFen) lines.push({ label: '早缴优惠', detail: '', amountFen: -b.discountFen });
  if (b.lateFeeFen) lines.push({ label: '滞纳金', detail: '', amountFen: b.lateFeeFen });
  lines.push({ label: '已缴', detail: b.paidVia === 'counter' ? '营业厅缴费' : '微信支付', amountFen: -b.paidFen });
  return lines;
}

export function seasonView(s: Season): SeasonView {
  return {
    id: s.id,
    code: s.code,
    label: seasonLabel(s.code),
    startDate: s.startDate,
    endDate: s.endDate,
    dueDate: s.dueDate,
    tariffs: s.tariffs,
    baseFeeRatioBp: s.baseFeeRatioBp,
    discountBp: s.discountBp,
    discountUntil: s.discountUntil,
    lateFeeDailyBp: s.lateFeeDailyBp,
    lateFeeCapBp: s.lateFeeCapBp,
  };
}

export type { SeasonRules };
