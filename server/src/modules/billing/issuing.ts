import { lastSeasonStartYear, seasonCodeOf, seasonLabel, type SeasonBillsStatus } from '@heat-butler/shared';
import { forUpdate, withTx } from '../../platform/db/data-source';
import type { Account } from '../accounts';
import { Bill, Season } from './entities';
import { BillingBase } from './base';

/**
 * Issuing a season's bills (出账): the preview (who gets which bill, who is skipped and why) and
 * the issuing itself, in steps the admin's page repeats to show progress. Re-runnable: an account
 * that has the season's bill never gets a second one (the season's row lock serialises issuers,
 * the unique key (account, season) backs it up).
 */
export class BillingIssuing extends BillingBase {
  /**
   * The season being billed now: during a heating season that season, after it ended the next one
   * (its bills go out before it starts); the latest existing season up to that one. Null when none.
   */
  async currentSeason(): Promise<Season | null> {
    const code = seasonCodeOf(lastSeasonStartYear(this.clock(), await this.rules()) + 1);
    return this.ds.getRepository(Season).createQueryBuilder('s').where('s.code <= :code', { code }).orderBy('s.code', 'DESC').getOne();
  }

  /** The 出账 preview of a season: nothing is written. */
  async seasonBills(code: string): Promise<SeasonBillsStatus> {
    const season = await this.seasonByCode(code);
    const { accounts, have } = await this.billingState(season);
    return this.status(season, accounts, have, 0);
  }

  /**
   * How many billable households have no bill of the season yet (seasonBills().remaining), counted
   * without loading the accounts: the household import's summary, after 1,000,000 rows.
   */
  async unbilledCount(code: string): Promise<number> {
    const season = await this.seasonByCode(code);
    const total = await this.accounts.billableAccountCount();
    let billed = 0;
    let after = 0;
    for (;;) {
      const ids = (
        await this.ds
          .getRepository(Bill)
          .createQueryBuilder('b')
          .select('b.accountId', 'accountId')
          .where('b.seasonId = :s AND b.accountId > :after', { s: season.id, after })
          .orderBy('b.accountId', 'ASC')
          .limit(10_000)
          .getRawMany()
      ).map((r) => Number(r.accountId));
      if (!ids.length) break;
      billed += await this.accounts.billableAccountCount(ids);
      after = ids[ids.length - 1]!;
    }
    return total - billed;
  }

  /**
   * Issue the season's bill to (up to `batch`) accounts that have none yet: the full fee, or the
   * base fee for a stopped account; closed accounts get none. Returns where issuing stands after
   * this step (remaining 0 = done). Running it again issues nothing twice.
   */
  async issueBills(code: string, batch = Number.POSITIVE_INFINITY): Promise<SeasonBillsStatus> {
    const season = await this.seasonByCode(code);
    return withTx(this.ds, async (em) => {
      // one issuer per season at a time: the second waits, then sees the first one's bills
      await forUpdate(em.createQueryBuilder(Season, 's').where('s.id = :id', { id: season.id })).getOne();
      const { accounts, have } = await this.billingState(season, em);
      const rows = accounts
        .filter((a) => !have.has(a.id))
        .slice(0, batch)
        .map((a) => this.newBill(season, a, a.status === 'stopped' ? 'base' : 'full'));
      for (let i = 0; i < rows.length; i += 500) {
        // a stop/resume may have issued one of these meanwhile (reprice): that bill stays, ours is dropped
        await em
          .createQueryBuilder()
          .insert()
          .into(Bill)
          .values(rows.slice(i, i + 500))
          .orIgnore()
          .updateEntity(false)
          .execute();
      }
      const after = new Set((await em.getRepository(Bill).find({ select: { accountId: true }, where: { seasonId: season.id } })).map((b) => b.accountId));
      const issued = Math.max(0, after.size - have.size);
      return this.status(season, accounts, after, issued);
    });
  }

  private async billingState(season: Season, em = this.ds.manager) {
    const accounts = await this.accounts.billableAccounts();
    const have = new Set((await em.getRepository(Bill).find({ select: { accountId: true }, where: { seasonId: season.id } })).map((b) => b.accountId));
    return { accounts, have };
  }

  private async status(season: Season, accounts: Account[], have: Set<number>, issued: number): Promise<SeasonBillsStatus> {
    const pending = { full: 0, base: 0, amountFen: 0 };
    let billed = 0;
    for (const a of accounts) {
      if (have.has(a.id)) {
        billed++;
        continue;
      }
      const kind = a.status === 'stopped' ? 'base' : 'full';
      pending[kind]++;
      pending.amountFen += this.newBill(season, a, kind).chargeFen!;
    }
    const closed = await this.accounts.closedAccountCount();
    return {
      season: season.code,
      label: seasonLabel(season.code),
      total: accounts.length,
      billed,
      issued,
      remaining: accounts.length - billed,
      pending,
      skipped: closed ? [{ reason: '已销户，不再出账', count: closed }] : [],
    };
  }
}
