import { In, type DataSource, type EntityManager } from 'typeorm';
import {
  chinaDate,
  formatFen,
  parseStoredRules,
  quoteBill,
  seasonCharge,
  seasonLabel,
  SeasonInput,
  type BillKind,
  type BillView,
  type CompanyRules,
  type Quote,
  type SeasonRules,
  type SeasonView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { rawDatetime } from '../../platform/db/columns';
import { forUpdate, isUniqueViolation, updateByIds, withTx } from '../../platform/db/data-source';
import type { Events } from '../../platform/events';
import type { Account, AccountsService } from '../accounts';
import { Bill, Season } from './entities';

/** Seasons, tariffs and bills: what each account owes for each season, priced for a given day. */
export class BillingService {
  constructor(
    private ds: DataSource,
    private accounts: AccountsService,
    private clock: () => Date,
    /** emits bill.settled_at_counter */
    private events: Events,
    /** the company's rules (app.ts passes company.rules); the defaults when not given (benchmarks) */
    private rules: () => Promise<CompanyRules> = async () => parseStoredRules({}),
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

  // ---- issuing bills ----------------------------------------------------------------------------

  /**
   * Issue the season's bill to every account that has none yet (re-runnable): the full fee, or
   * the base fee for a stopped account; closed accounts get none.
   */
  async issueBills(code: string): Promise<{ issued: number; existing: number }> {
    const season = await this.seasonByCode(code);
    const accounts = await this.accounts.billableAccounts();
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
    const bills = await this.ds.getRepository(Bill).find({ select: { id: true, accountId: true, status: true }, where: { seasonId: season.id }, order: { id: 'ASC' } });
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
    const accounts = new Map((await this.accounts.accountsByIds(items.map((i) => i.accountId), em)).map((a) => [a.id, a]));
    for (let i = 0; i < items.length; i += 500) {
      const values = items.slice(i, i + 500).map((it) => {
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
      await em
        .createQueryBuilder()
        .insert()
        .into(Bill)
        .values(values)
        .orUpdate(['chargeFen', 'lines', 'updatedAt'], ['accountId', 'seasonId'])
        .updateEntity(false)
        .execute();
    }
    return items.length;
  }

  /** A page of bills (optionally of one season) with account number and season code, by id (exports). */
  async exportPage(seasonId: number | null, afterId: number, limit: number) {
    const qb = this.ds
      .getRepository(Bill)
      .createQueryBuilder('b')
      .innerJoin(Season, 's', 's.id = b.seasonId')
      .select(BILL_COLUMNS.map(([expr, alias]) => `${expr} AS ${alias}`))
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
  private async unpaidEarlier(em: EntityManager, bills: Pick<Bill, 'id' | 'accountId' | 'seasonId' | 'status'>[]) {
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
          return { billId: r.id, season: s.code, dueFen: quoteBill(r, s, today, { heatOff: heatOff(accounts.get(r.accountId)?.status, rules) }).dueFen };
        })
        .filter((r) => r.dueFen > 0)
        .sort((a, b) => a.season.localeCompare(b.season));
      if (earlier.length) out.set(bill.id, earlier);
    }
    return out;
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

  /**
   * Settle bills with WeChat payments, inside the payments' transaction, in one UPDATE for the
   * lot. Per order: 'paid' when it settled its bill; 'duplicate' when the bill had been settled
   * already, or is settled by an earlier payment of the same batch (the caller refunds).
   */
  async settleWithPayments(
    em: EntityManager,
    payments: { billId: number; orderId: number; amountFen: number; discountFen: number; lateFeeFen: number; at: Date }[],
  ): Promise<Map<number, 'paid' | 'duplicate'>> {
    const out = new Map<number, 'paid' | 'duplicate'>();
    const first = new Map<number, (typeof payments)[number]>();
    for (const p of payments) if (!first.has(p.billId)) first.set(p.billId, p);
    const candidates = [...first.values()].sort((a, b) => a.billId - b.billId);
    // only an unpaid bill is settled; the UPDATE's row locks serialise concurrent payers
    await updateByIds(
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
    const rows = await em.find(Bill, { where: { id: In(candidates.map((p) => p.billId)) }, select: { id: true, paidOrderId: true } });
    const settledBy = new Map(rows.map((r) => [r.id, r.paidOrderId]));
    for (const p of payments) {
      if (!settledBy.has(p.billId)) throw new AppError('BILL_NOT_FOUND');
      out.set(p.orderId, settledBy.get(p.billId) === p.orderId ? 'paid' : 'duplicate');
    }
    return out;
  }

  /** The account's bill for a season, if issued. */
  async billFor(accountId: number, seasonId: number): Promise<Bill | null> {
    return this.ds.getRepository(Bill).findOne({ where: { accountId, seasonId } });
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
    const bill = await forUpdate(em.createQueryBuilder(Bill, 'b').where('b.accountId = :accountId AND b.seasonId = :seasonId', { accountId, seasonId })).getOne();
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
      const q = quoteBill({ chargeFen, paidFen: 0, lines: [] }, season, chinaDate(bill.paidAt ?? this.clock()));
      overpaidFen = Math.max(0, bill.paidFen - q.dueFen);
      patch.status = 'paid';
      patch.discountFen = q.discountFen;
      patch.lateFeeFen = q.lateFeeFen;
      if (overpaidFen > 0) patch.lines = [...lines, { label: '报停应退', detail: '已缴金额超出基础热费的部分，由财务退回', amountFen: overpaidFen }];
    }
    await em.update(Bill, bill.id, patch);
    return { bill: Object.assign(bill, patch), overpaidFen };
  }

  // ---- what residents see ---------------------------------------------------------------------

  /**
   * Every bill of the resident's bound accounts: unpaid first (oldest season first), then paid.
   * Two queries (the bound accounts with their addresses from accounts, then their bills with
   * seasons): the bill list is the app's busiest read (bench/payments.ts).
   */
  async listForResident(residentId: number): Promise<{ items: BillView[]; totalDueFen: number }> {
    const bound = await this.accounts.boundAddresses(residentId);
    const rows: Record<string, any>[] = bound.size
      ? await this.ds
          .createQueryBuilder()
          .from(Bill, 'b')
          .innerJoin(Season, 's', 's.id = b.seasonId')
          .select(BILL_COLUMNS.map(([expr, alias]) => `${expr} AS ${alias}`))
          .addSelect(SEASON_COLUMNS.map(([expr, alias]) => `${expr} AS ${alias}`))
          .where('b.accountId IN (:...ids)', { ids: [...bound.keys()] })
          .getRawMany()
      : [];
    const today = chinaDate(this.clock());
    const rules = await this.rules();
    const bills = rows.map((r) => ({ bill: rawBill(r), season: rawSeason(r) }));
    // heat on or off (no late fee while off) and arrears first: only for the unpaid ones
    const unpaid = bills.filter((x) => x.bill.status === 'unpaid').map((x) => x.bill);
    const status = new Map((await this.accounts.accountsByIds([...new Set(unpaid.map((b) => b.accountId))])).map((a) => [a.id, a.status]));
    const items = bills.map(({ bill, season }) => {
      const a = bound.get(bill.accountId)!;
      return toView(bill, season, a.accountNo, a.address, today, { heatOff: heatOff(status.get(bill.accountId), rules), payFirst: null });
    });
    // arrears first: an unpaid bill with earlier seasons of its account still due points at the oldest
    for (const it of items) {
      const earlier = items.filter((o) => o.status === 'unpaid' && o.dueFen > 0 && o.accountId === it.accountId && o.season < it.season).sort((x, y) => x.season.localeCompare(y.season));
      if (it.status === 'unpaid' && earlier.length)
        it.payFirst = { billId: earlier[0]!.id, season: earlier[0]!.season, seasonLabel: earlier[0]!.seasonLabel, dueFen: earlier.reduce((sum, o) => sum + o.dueFen, 0) };
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
        payFirst: first ? { billId: first.billId, season: first.season, seasonLabel: seasonLabel(first.season), dueFen: earlier.get(b.id)!.reduce((s, x) => s + x.dueFen, 0) } : null,
      });
    });
  }
}

/** Is the household's heat off (报停 or 封阀) in the sense of "no late fee while heat is cut off"? */
function heatOff(status: Account['status'] | undefined, rules: Pick<CompanyRules, 'billing'>): boolean {
  return rules.billing.noLateFeeWhileHeatOff && (status === 'stopped' || status === 'sealed');
}

type PayFirst = BillView['payFirst'];

/** A bill as the resident sees it, priced for `today` while unpaid, as settled once paid. */
function toView(b: Bill, season: Season, accountNo: string, address: string, today: string, opts: { heatOff: boolean; payFirst: PayFirst }): BillView {
  const unpaid = b.status === 'unpaid';
  const q: Quote = unpaid
    ? quoteBill(b, season, today, { heatOff: opts.heatOff })
    : { chargeFen: b.chargeFen, discountFen: b.discountFen, lateFeeFen: b.lateFeeFen, paidFen: b.paidFen, unpaidFen: 0, dueFen: 0, lines: frozenLines(b) };
  return {
    id: b.id,
    accountId: b.accountId,
    accountNo,
    address,
    season: season.code,
    seasonLabel: seasonLabel(season.code),
    kind: b.kind,
    status: b.status,
    // an earlier season, over and still unpaid
    arrears: unpaid && season.endDate < today,
    chargeFen: b.chargeFen,
    discountFen: q.discountFen,
    lateFeeFen: q.lateFeeFen,
    paidFen: b.paidFen,
    dueFen: unpaid ? q.dueFen : 0,
    dueDate: season.dueDate,
    lines: q.lines,
    paidAt: b.paidAt ? b.paidAt.toISOString() : null,
    payFirst: unpaid ? opts.payFirst : null,
  };
}

const BILL_COLUMNS: [string, string][] = [
  ['b.id', 'b_id'], ['b.accountId', 'b_accountId'], ['b.seasonId', 'b_seasonId'], ['b.kind', 'b_kind'], ['b.status', 'b_status'],
  ['b.heatedArea', 'b_heatedArea'], ['b.unitPriceFen', 'b_unitPriceFen'], ['b.chargeFen', 'b_chargeFen'], ['b.paidFen', 'b_paidFen'],
  ['b.discountFen', 'b_discountFen'], ['b.lateFeeFen', 'b_lateFeeFen'], ['b.lines', 'b_lines'], ['b.paidVia', 'b_paidVia'], ['b.paidAt', 'b_paidAt'],
];
const SEASON_COLUMNS: [string, string][] = [
  ['s.id', 's_id'], ['s.code', 's_code'], ['s.endDate', 's_endDate'], ['s.dueDate', 's_dueDate'], ['s.baseFeeRatioBp', 's_baseFeeRatioBp'],
  ['s.discountBp', 's_discountBp'], ['s.discountUntil', 's_discountUntil'], ['s.lateFeeDailyBp', 's_lateFeeDailyBp'], ['s.lateFeeCapBp', 's_lateFeeCapBp'],
];

/** Raw rows: mysql2 gives BIGINT as strings and JSON columns as text; SQLite gives datetimes as UTC text. */
function rawBill(r: Record<string, any>): Bill {
  return {
    id: Number(r.b_id),
    accountId: Number(r.b_accountId),
    seasonId: Number(r.b_seasonId),
    kind: r.b_kind,
    status: r.b_status,
    heatedArea: Number(r.b_heatedArea),
    unitPriceFen: Number(r.b_unitPriceFen),
    chargeFen: Number(r.b_chargeFen),
    paidFen: Number(r.b_paidFen),
    discountFen: Number(r.b_discountFen),
    lateFeeFen: Number(r.b_lateFeeFen),
    lines: typeof r.b_lines === 'string' ? JSON.parse(r.b_lines) : r.b_lines,
    paidVia: r.b_paidVia ?? null,
    paidAt: r.b_paidAt ? rawDatetime(r.b_paidAt) : null,
  } as Bill;
}

function rawSeason(r: Record<string, any>): Season {
  return {
    id: Number(r.s_id),
    code: r.s_code,
    endDate: r.s_endDate,
    dueDate: r.s_dueDate,
    baseFeeRatioBp: Number(r.s_baseFeeRatioBp),
    discountBp: Number(r.s_discountBp),
    discountUntil: r.s_discountUntil ?? null,
    lateFeeDailyBp: Number(r.s_lateFeeDailyBp),
    lateFeeCapBp: Number(r.s_lateFeeCapBp),
  } as Season;
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
