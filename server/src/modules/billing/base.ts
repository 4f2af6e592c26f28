import { In, type DataSource, type EntityManager } from 'typeorm';
import {
  chinaDate,
  formatFen,
  parseStoredRules,
  quoteAmounts,
  quoteBill,
  seasonCharge,
  seasonLabel,
  SeasonInput,
  type BillKind,
  type CompanyRules,
  type Quote,
  type SeasonView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, updateByIds, upsertRows } from '../../platform/db/data-source';
import type { Events } from '../../platform/events';
import type { Account, AccountsService } from '../accounts';
import { Bill, Season } from './entities';
import { BILL_COLUMNS, heatOff, rawBill, seasonView, selectList } from './views';

/**
 * Billing's foundations: seasons and tariffs, the household import's batches, and pricing and
 * paying (called by payments inside its transactions). BillingService (service.ts) adds issuing
 * and what residents see.
 */
export class BillingBase {
  constructor(
    protected ds: DataSource,
    protected accounts: AccountsService,
    protected clock: () => Date,
    /** emits bill.settled_at_counter */
    protected events: Events,
    /** the company's rules (app.ts passes company.rules); the defaults when not given (benchmarks) */
    protected rules: () => Promise<CompanyRules> = async () => parseStoredRules({}),
  ) {}

  // ---- seasons --------------------------------------------------------------------------------

  /**
   * A new season. Without its own base-fee ratio it takes the company's setting (报停基础热费比例),
   * copied in now: the season's ratio is what its bills are priced by from then on.
   */
  async createSeason(input: SeasonInput): Promise<SeasonView> {
    const parsed = SeasonInput.parse(input);
    const rules = { ...parsed, baseFeeRatioBp: parsed.baseFeeRatioBp ?? (await this.rules()).baseFeeRatioBp };
    try {
      const season = await this.ds.getRepository(Season).save(this.ds.getRepository(Season).create(rules));
      return seasonView(season);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('SEASON_EXISTS');
      throw err;
    }
  }

  /**
   * Change a season's rules. Bills already issued keep their charge; new ones use the new tariff.
   * Without a base-fee ratio the season keeps its own.
   */
  async updateSeason(code: string, input: SeasonInput): Promise<SeasonView> {
    const rules = SeasonInput.parse({ ...input, code });
    const repo = this.ds.getRepository(Season);
    const season = await repo.findOne({ where: { code } });
    if (!season) throw new AppError('SEASON_NOT_FOUND');
    Object.assign(season, { ...rules, baseFeeRatioBp: rules.baseFeeRatioBp ?? season.baseFeeRatioBp });
    return seasonView(await repo.save(season));
  }

  /** The company's rules (the seasons page shows the base-fee ratio a new season takes). */
  async companyRules(): Promise<CompanyRules> {
    return this.rules();
  }

  async seasons(): Promise<SeasonView[]> {
    return (await this.ds.getRepository(Season).find({ order: { code: 'DESC' } })).map(seasonView);
  }

  async season(id: number): Promise<Season> {
    return this.ds.getRepository(Season).findOneByOrFail({ id });
  }

  async seasonByCode(code: string): Promise<Season> {
    const season = await this.ds.getRepository(Season).findOne({ where: { code } });
    if (!season) throw new AppError('SEASON_NOT_FOUND');
    return season;
  }

  // ---- household import (admin module) ----------------------------------------------------------

  /** Status of the bills some accounts have for some seasons (import validation, in batches). */
  async billStatuses(accountIds: number[], seasonIds: number[]): Promise<{ accountId: number; seasonId: number; status: string }[]> {
    const out: { accountId: number; seasonId: number; status: string }[] = [];
    if (!seasonIds.length) return out;
    const ids = [...new Set(accountIds)];
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await this.ds.getRepository(Bill).find({
        select: { accountId: true, seasonId: true, status: true },
        where: { accountId: In(ids.slice(i, i + 1000)), seasonId: In(seasonIds) },
      });
      out.push(...rows.map((r) => ({ accountId: r.accountId, seasonId: r.seasonId, status: r.status })));
    }
    return out;
  }

  /**
   * Arrears from the billing system: an unpaid bill of the season for the given amount, in batches
   * inside the caller's transaction. A bill already issued and still unpaid takes the imported
   * amount (a re-import updates); the caller refuses paid or void bills beforehand.
   */
  async importArrears(em: EntityManager, items: { accountId: number; seasonId: number; amountFen: number }[]): Promise<number> {
    if (!items.length) return 0;
    const now = this.clock();
    const seasons = new Map((await em.find(Season, { where: { id: In([...new Set(items.map((i) => i.seasonId))]) } })).map((s) => [s.id, s]));
    const accounts = new Map(
      (
        await this.accounts.accountsByIds(
          items.map((i) => i.accountId),
          em,
        )
      ).map((a) => [a.id, a]),
    );
    for (let i = 0; i < items.length; i += 2000) {
      const values = items.slice(i, i + 2000).map((it) => {
        const season = seasons.get(it.seasonId)!;
        const account = accounts.get(it.accountId)!;
        return {
          accountId: it.accountId,
          seasonId: it.seasonId,
          kind: 'full' as const,
          status: 'unpaid' as const,
          heatedArea: account.heatedArea,
          unitPriceFen: season.tariffs[account.use],
          chargeFen: it.amountFen,
          paidFen: 0,
          discountFen: 0,
          lateFeeFen: 0,
          lines: [{ label: '往年欠费', detail: `${seasonLabel(season.code)}欠费（营业收费系统导入）`, amountFen: it.amountFen }],
          paidVia: null,
          paidOrderId: null,
          paidAt: null,
          createdAt: now,
          updatedAt: now,
        };
      });
      await upsertRows(em, Bill, values, ['chargeFen', 'lines', 'updatedAt'], ['accountId', 'seasonId']);
    }
    return items.length;
  }

  /** A page of bills (optionally of one season) with account number and season code, by id (exports). */
  async exportPage(seasonId: number | null, afterId: number, limit: number) {
    const qb = this.ds
      .getRepository(Bill)
      .createQueryBuilder('b')
      .innerJoin(Season, 's', 's.id = b.seasonId')
      .select(selectList(BILL_COLUMNS))
      .addSelect(['s.code AS seasonCode'])
      .where('b.id > :afterId', { afterId });
    if (seasonId !== null) qb.andWhere('b.seasonId = :seasonId', { seasonId });
    const rows: Record<string, any>[] = await qb.orderBy('b.id', 'ASC').limit(limit).getRawMany();
    const bills = rows.map((r) => ({ bill: rawBill(r), season: String(r.seasonCode) }));
    const nos = await this.accounts.accountNosByIds(bills.map((x) => x.bill.accountId));
    return bills.map((x) => ({ bill: x.bill, accountNo: nos.get(x.bill.accountId) ?? '', season: x.season }));
  }

  /** What each account owes per season (unpaid bills: charge minus paid), for some accounts. */
  async unpaidByAccount(accountIds: number[]): Promise<Map<number, { season: string; fen: number }[]>> {
    const out = new Map<number, { season: string; fen: number }[]>();
    if (!accountIds.length) return out;
    const rows: Record<string, any>[] = await this.ds
      .getRepository(Bill)
      .createQueryBuilder('b')
      .innerJoin(Season, 's', 's.id = b.seasonId')
      .select(['b.accountId AS accountId', 's.code AS season', 'b.chargeFen AS chargeFen', 'b.paidFen AS paidFen'])
      .where('b.accountId IN (:...ids) AND b.status = :st', { ids: accountIds, st: 'unpaid' })
      .getRawMany();
    for (const r of rows) {
      const id = Number(r.accountId);
      const list = out.get(id) ?? [];
      list.push({ season: String(r.season), fen: Number(r.chargeFen) - Number(r.paidFen) });
      out.set(id, list);
    }
    return out;
  }

  /** Season codes that have unpaid bills (the arrears columns of the accounts export). */
  async seasonsWithUnpaid(): Promise<string[]> {
    const rows: Record<string, any>[] = await this.ds
      .getRepository(Bill)
      .createQueryBuilder('b')
      .innerJoin(Season, 's', 's.id = b.seasonId')
      .select('DISTINCT s.code', 'code')
      .where('b.status = :st', { st: 'unpaid' })
      .getRawMany();
    return rows.map((r) => String(r.code)).sort();
  }

  protected newBill(season: Season, account: Account, kind: BillKind): Partial<Bill> {
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

  // ---- pricing and paying (called by payments inside its transactions) --------------------------

  async lockBill(em: EntityManager, billId: number): Promise<Bill> {
    const bill = await forUpdate(em.createQueryBuilder(Bill, 'b').where('b.id = :id', { id: billId })).getOne();
    if (!bill) throw new AppError('BILL_NOT_FOUND');
    return bill;
  }

  async quoteFor(em: EntityManager, bill: Bill, at: Date): Promise<Quote> {
    const season = await em.findOneByOrFail(Season, { id: bill.seasonId });
    const account = await this.accounts.account(bill.accountId, em);
    return quoteBill(bill, season, chinaDate(at), { heatOff: heatOff(account?.status, await this.rules()) });
  }

  /**
   * Arrears first (issue 16; the bill page lists them first): a bill may be paid only when no
   * earlier season of the same account is still unpaid. Payments call this before creating an
   * order; refused with ARREARS_FIRST and the bills to pay first (oldest first).
   */
  async assertPayable(em: EntityManager, billId: number): Promise<void> {
    const bill = await em.findOneBy(Bill, { id: billId });
    if (!bill) throw new AppError('BILL_NOT_FOUND');
    const earlier = await this.unpaidEarlier(em, [bill]);
    const first = earlier.get(bill.id);
    if (!first?.length) return;
    const totalFen = first.reduce((s, b) => s + b.dueFen, 0);
    throw new AppError('ARREARS_FIRST', {
      bills: first,
      totalFen,
      message: `请先缴清往年欠费${formatFen(totalFen)}（${first.map((b) => seasonLabel(b.season)).join('、')}），再缴本期账单`,
    });
  }

  /** Per bill: the same account's unpaid bills of earlier seasons with something due, oldest first, priced for now. */
  protected async unpaidEarlier(em: EntityManager, bills: Pick<Bill, 'id' | 'accountId' | 'seasonId' | 'status'>[]) {
    const out = new Map<number, { billId: number; season: string; dueFen: number }[]>();
    const unpaid = bills.filter((b) => b.status === 'unpaid');
    if (!unpaid.length) return out;
    const rows = await em
      .createQueryBuilder(Bill, 'b')
      .where('b.accountId IN (:...ids) AND b.status = :st', { ids: [...new Set(unpaid.map((b) => b.accountId))], st: 'unpaid' })
      .getMany();
    if (!rows.length) return out;
    const seasons = new Map((await em.find(Season, { where: { id: In([...new Set([...rows, ...unpaid].map((b) => b.seasonId))]) } })).map((x) => [x.id, x]));
    const accounts = new Map((await this.accounts.accountsByIds([...new Set(rows.map((b) => b.accountId))], em)).map((a) => [a.id, a]));
    const rules = await this.rules();
    const today = chinaDate(this.clock());
    for (const bill of unpaid) {
      const code = seasons.get(bill.seasonId)!.code;
      const earlier = rows
        .filter((r) => r.accountId === bill.accountId && r.id !== bill.id && seasons.get(r.seasonId)!.code < code)
        .map((r) => {
          const s = seasons.get(r.seasonId)!;
          return { billId: r.id, season: s.code, dueFen: quoteAmounts(r, s, today, { heatOff: heatOff(accounts.get(r.accountId)?.status, rules) }).dueFen };
        })
        .filter((r) => r.dueFen > 0)
        .sort((a, b) => a.season.localeCompare(b.season));
      if (earlier.length) out.set(bill.id, earlier);
    }
    return out;
  }

  /**
   * 一键缴清: every unpaid bill of the account with something due, locked and priced for `at`
   * exactly as the bill view prices them, oldest season first. Paying them all together satisfies
   * arrears first by construction.
   */
  async lockUnpaidOfAccount(em: EntityManager, accountId: number, at: Date): Promise<{ bill: Bill; season: string; quote: Quote }[]> {
    const bills = await forUpdate(em.createQueryBuilder(Bill, 'b').where('b.accountId = :accountId AND b.status = :st', { accountId, st: 'unpaid' })).getMany();
    bills.sort((a, b) => a.id - b.id);
    if (!bills.length) return [];
    const seasons = new Map((await em.find(Season, { where: { id: In([...new Set(bills.map((b) => b.seasonId))]) } })).map((x) => [x.id, x]));
    const account = await this.accounts.account(accountId, em);
    const off = heatOff(account?.status, await this.rules());
    const today = chinaDate(at);
    return bills
      .map((bill) => ({ bill, season: seasons.get(bill.seasonId)!.code, quote: quoteBill(bill, seasons.get(bill.seasonId)!, today, { heatOff: off }) }))
      .filter((x) => x.quote.dueFen > 0)
      .sort((a, b) => a.season.localeCompare(b.season));
  }

  /**
   * Settle bills with WeChat payments, inside the payments' transaction, in one UPDATE for the
   * lot. Per payment (one per bill an order pays, in the order given): 'paid' when it settled its
   * bill; 'duplicate' when the bill had been settled already, or is settled by an earlier payment
   * of the same batch (the caller refunds).
   */
  async settleWithPayments(
    em: EntityManager,
    payments: { billId: number; orderId: number; amountFen: number; discountFen: number; lateFeeFen: number; at: Date }[],
  ): Promise<('paid' | 'duplicate')[]> {
    const first = new Map<number, (typeof payments)[number]>();
    for (const p of payments) if (!first.has(p.billId)) first.set(p.billId, p);
    const candidates = [...first.values()].sort((a, b) => a.billId - b.billId);
    // only an unpaid bill is settled; the UPDATE's row locks serialise concurrent payers
    const changed = await updateByIds(
      em,
      Bill,
      candidates.map((p) => ({
        id: p.billId,
        set: { paidOrderId: p.orderId, paidFen: p.amountFen, discountFen: p.discountFen, lateFeeFen: p.lateFeeFen, paidAt: p.at },
      })),
      { status: 'paid', paidVia: 'wechat' },
      { sql: 'status = :unpaid', params: { unpaid: 'unpaid' } },
      // a bill re-opened for a difference (resume after a paid base fee) keeps what was paid
      {
        paidFen: (expr) => `${em.connection.driver.escape('paidFen')} + ${expr}`,
        discountFen: (expr) => `${em.connection.driver.escape('discountFen')} + ${expr}`,
        lateFeeFen: (expr) => `${em.connection.driver.escape('lateFeeFen')} + ${expr}`,
      },
    );
    // every candidate was unpaid: each is settled by its first payment (no need to read them back)
    const rows =
      changed === candidates.length
        ? candidates.map((p) => ({ id: p.billId, paidOrderId: p.orderId }))
        : await em.find(Bill, { where: { id: In(candidates.map((p) => p.billId)) }, select: { id: true, paidOrderId: true } });
    const settledBy = new Map(rows.map((r) => [r.id, r.paidOrderId]));
    return payments.map((p) => {
      if (!settledBy.has(p.billId)) throw new AppError('BILL_NOT_FOUND');
      return settledBy.get(p.billId) === p.orderId ? 'paid' : 'duplicate';
    });
  }

  /** The account's bill for a season, if issued. */
  async billFor(accountId: number, seasonId: number): Promise<Bill | null> {
    return this.ds.getRepository(Bill).findOne({ where: { accountId, seasonId } });
  }
}
