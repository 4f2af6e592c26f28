import { In, type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { maskPhone } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import type { StaffPrincipal } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import type { Area, CompanyService } from '../company';
import { Account, Binding, Building, Unit } from './entities';

export function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Reading accounts, buildings and bindings for other modules and staff: lookups by id, addresses,
 * the staff search, area scope by account. AccountsService (service.ts) adds binding and writing.
 */
export class AccountQueries {
  constructor(
    protected ds: DataSource,
    protected peers: { company: Pick<CompanyService, 'areas'> },
  ) {}

  async listBuildings(): Promise<Building[]> {
    return this.ds.getRepository(Building).find({ order: { id: 'ASC' } });
  }

  /** Number of accounts (households) per building. */
  async accountCountsByBuilding(buildingIds: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (!buildingIds.length) return out;
    const rows: { buildingId: number; n: string | number }[] = await this.ds
      .getRepository(Account)
      .createQueryBuilder('a')
      .select('a.buildingId', 'buildingId')
      .addSelect('COUNT(*)', 'n')
      .where('a.buildingId IN (:...ids)', { ids: buildingIds })
      .groupBy('a.buildingId')
      .getRawMany();
    for (const r of rows) out.set(Number(r.buildingId), Number(r.n));
    return out;
  }

  /** Buildings, units and areas of some accounts, and a function that writes their full address. */
  async addressContext(accounts: Account[]) {
    const buildings = new Map(
      (
        await this.byIds(
          Building,
          accounts.map((a) => a.buildingId),
        )
      ).map((b) => [b.id, b] as const),
    );
    const units = new Map(
      (
        await this.byIds(
          Unit,
          accounts.map((a) => a.unitId),
        )
      ).map((u) => [u.id, u] as const),
    );
    const areaIds = new Set(accounts.map((a) => a.areaId));
    const areas = new Map<number, Area>(
      accounts.length ? (await this.peers.company.areas()).filter((x) => areaIds.has(x.id)).map((x) => [x.id, x] as const) : [],
    );
    const address = (a: Account) => {
      const b = buildings.get(a.buildingId);
      const u = units.get(a.unitId);
      return `${b?.address ?? ''}${b?.name ?? ''}${u ? `${u.no}单元` : ''}${a.roomNo}室`;
    };
    return { buildings, units, areas, address };
  }

  protected async byIds<T extends { id: number }>(entity: new () => T, ids: number[]): Promise<T[]> {
    const unique = [...new Set(ids)];
    if (!unique.length) return [];
    return this.ds.getRepository(entity).find({ where: { id: In(unique) } as any });
  }

  /** An account's unit number and owner's name, in one query (how a resident is labelled in a group); null when there is no such account. */
  async unitAndOwner(accountId: number): Promise<{ unitNo: string | null; ownerName: string } | null> {
    const r = await this.ds
      .createQueryBuilder()
      .from(Account, 'a')
      .leftJoin(Unit, 'u', 'u.id = a.unitId')
      .select(['a.ownerName AS ownerName', 'u.no AS unitNo'])
      .where('a.id = :accountId', { accountId })
      .getRawOne<{ ownerName: string; unitNo: string | null }>();
    return r ? { unitNo: r.unitNo ?? null, ownerName: String(r.ownerName) } : null;
  }

  /** Accounts in the given areas ('all' for admins), searched by number, owner or room. */
  async searchForStaff(areaIds: number[] | 'all', q: string | undefined, page: number, pageSize: number) {
    const qb = this.ds.getRepository(Account).createQueryBuilder('a');
    if (areaIds !== 'all') {
      if (!areaIds.length) return { items: [], total: 0, page, pageSize };
      qb.where('a.areaId IN (:...areaIds)', { areaIds });
    }
    if (q) qb.andWhere('(a.accountNo LIKE :q OR a.ownerName LIKE :q)', { q: `${q.replace(/[%_]/g, '')}%` });
    const [rows, total] = await qb
      .orderBy('a.id', 'ASC')
      .skip((page - 1) * pageSize)
      .take(pageSize)
      .getManyAndCount();
    const ctx = await this.addressContext(rows);
    return {
      items: rows.map((a) => ({
        id: a.id,
        accountNo: a.accountNo,
        address: ctx.address(a),
        areaName: ctx.areas.get(a.areaId)?.name ?? '',
        ownerName: a.ownerName,
        phoneMasked: maskPhone(a.contactPhone),
        heatedArea: a.heatedArea,
        use: a.use,
        status: a.status,
      })),
      total,
      page,
      pageSize,
    };
  }

  /** How a resident is (or was, when unbound since) related to an account: their latest binding of it, or null. */
  async bindingOf(residentId: number, accountId: number): Promise<{ relation: Binding['relation']; boundAt: Date; current: boolean } | null> {
    const b = await this.ds.getRepository(Binding).findOne({ where: { residentId, accountId }, order: { id: 'DESC' } });
    return b ? { relation: b.relation, boundAt: b.boundAt, current: !b.unboundAt } : null;
  }

  async account(id: number, em: EntityManager = this.ds.manager): Promise<Account | null> {
    return em.findOneBy(Account, { id });
  }

  /** An account that must exist (inside the caller's transaction when given). */
  async accountOrFail(id: number, em: EntityManager = this.ds.manager): Promise<Account> {
    const account = await em.findOneBy(Account, { id });
    if (!account) throw new AppError('ACCOUNT_NOT_FOUND');
    return account;
  }

  /** Accounts by id (missing ids are left out). */
  async accountsByIds(ids: number[], em: EntityManager = this.ds.manager): Promise<Account[]> {
    const out: Account[] = [];
    for (const part of chunks([...new Set(ids)], 1000)) out.push(...(await em.find(Account, { where: { id: In(part) } })));
    return out;
  }

  /**
   * Restrict another module's query to rows whose account lies in the staff member's areas:
   * `accountIdColumn IN (accounts of those areas)`, as a subquery this module writes.
   */
  scopeByAccountArea<T extends SelectQueryBuilder<any>>(qb: T, accountIdColumn: string, p: StaffPrincipal): T {
    const sub = qb.subQuery().select('sa.id').from(Account, 'sa');
    scopeToAreas(sub, 'sa.areaId', p);
    if (sub.expressionMap.wheres.length === 0) return qb; // everything in scope
    qb.andWhere(`${accountIdColumn} IN ${sub.getQuery()}`);
    qb.setParameters(sub.getParameters());
    return qb;
  }

  /** Accounts that get a season's bill (every status but closed), by id. */
  async billableAccounts(): Promise<Account[]> {
    return this.ds.getRepository(Account).find({ where: { status: In(['active', 'stopped', 'sealed']) }, order: { id: 'ASC' } });
  }

  /** How many accounts get bills (all but closed ones), and how many of `ids` are among them: counts that hold no account. */
  async billableAccountCount(ids?: number[]): Promise<number> {
    const billable = { status: In(['active', 'stopped', 'sealed']) };
    if (!ids) return this.ds.getRepository(Account).count({ where: billable });
    let n = 0;
    for (const part of chunks([...new Set(ids)], 1000)) n += await this.ds.getRepository(Account).count({ where: { ...billable, id: In(part) } });
    return n;
  }

  /** How many accounts are closed (销户): they get no bills (billing's 出账 preview says so). */
  async closedAccountCount(): Promise<number> {
    return this.ds.getRepository(Account).count({ where: { status: 'closed' } });
  }

  /**
   * Restrict another module's query to the resident's bound accounts and add what the resident
   * sees of each (account number, address, status): joins this module writes, so the bill list is
   * one query. Read the added columns of a row with `boundAccountOf`.
   */
  joinBoundAccounts<T extends SelectQueryBuilder<any>>(qb: T, accountIdColumn: string, residentId: number): T {
    return qb
      .innerJoin(Binding, 'bd_', `bd_.accountId = ${accountIdColumn} AND bd_.residentId = :boundResidentId AND bd_.unboundAt IS NULL`, {
        boundResidentId: residentId,
      })
      .innerJoin(Account, 'a_', 'a_.id = bd_.accountId')
      .innerJoin(Unit, 'u_', 'u_.id = a_.unitId')
      .innerJoin(Building, 'bl_', 'bl_.id = a_.buildingId')
      .addSelect([
        'a_.accountNo AS a_accountNo',
        'a_.roomNo AS a_roomNo',
        'a_.status AS a_status',
        'u_.no AS a_unitNo',
        'bl_.name AS a_buildingName',
        'bl_.address AS a_buildingAddress',
      ]);
  }

  /** The columns `joinBoundAccounts` added to a raw row. */
  boundAccountOf(r: Record<string, any>): { accountNo: string; address: string; status: Account['status'] } {
    return { accountNo: String(r.a_accountNo), address: `${r.a_buildingAddress}${r.a_buildingName}${r.a_unitNo}单元${r.a_roomNo}室`, status: r.a_status };
  }

  /** Residents bound to the building's accounts now: (resident, account) pairs. */
  async activeBindingsOfBuilding(buildingId: number): Promise<{ residentId: number; accountId: number }[]> {
    const rows: { residentId: number | string; accountId: number | string }[] = await this.ds
      .getRepository(Binding)
      .createQueryBuilder('bi')
      .innerJoin(Account, 'a', 'a.id = bi.accountId')
      .select('bi.residentId', 'residentId')
      .addSelect('bi.accountId', 'accountId')
      .where('a.buildingId = :b', { b: buildingId })
      .andWhere('bi.unboundAt IS NULL')
      .getRawMany();
    return rows.map((r) => ({ residentId: Number(r.residentId), accountId: Number(r.accountId) }));
  }

  /** Buildings by id (missing ids are left out). */
  async buildingsByIds(ids: number[], em: EntityManager = this.ds.manager): Promise<Building[]> {
    return ids.length ? em.find(Building, { where: { id: In([...new Set(ids)]) } }) : [];
  }
}
