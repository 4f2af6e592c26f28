import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { MAX_BINDINGS_PER_RESIDENT, maskName, maskPhone, phoneLast4, type BindRequest, type BindingRelation, type BoundAccount } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, upsertRows, withTx } from '../../platform/db/data-source';
import { retryText, type Limiter } from '../../platform/limits';
import type { BindingChanged, Events } from '../../platform/events';
import type { IdentityService } from '../identity';
import type { Area, CompanyService } from '../company';
import { Account, BindAttempt, Binding, Building, Unit } from './entities';
import { AccountQueries, chunks } from './queries';

/** accounts per INSERT of upsertHouseholds (12 values each) */
const ACCOUNT_BATCH = 2000;

/** The binding.changed event (platform/events.ts): groups joins/leaves the building group in the binding's transaction. */
export type BindingChange = BindingChanged;

const normName = (s: string) => s.replace(/\s+/g, '');

/** Binding, writing and the household import's batches; the reads are in queries.ts. */
export class AccountsService extends AccountQueries {
  constructor(
    ds: DataSource,
    private clock: () => Date,
    private limiter: Limiter,
    /** `events` emits binding.changed and building.created */
    protected override peers: { identity: Pick<IdentityService, 'lockResident'>; company: Pick<CompanyService, 'areas'>; events: Events },
  ) {
    super(ds, peers);
  }

  // ---- residents ----------------------------------------------------------------------------

  async listBound(residentId: number): Promise<BoundAccount[]> {
    const bindings = await this.ds.getRepository(Binding).find({
      where: { residentId, unboundAt: IsNull() },
      order: { boundAt: 'ASC', id: 'ASC' },
    });
    return this.present(bindings);
  }

  async countBound(residentId: number): Promise<number> {
    return this.ds.getRepository(Binding).count({ where: { residentId, unboundAt: IsNull() } });
  }

  /** The account if this resident has bound it; 404 otherwise (never reveals other accounts). */
  async boundAccount(residentId: number, accountId: number): Promise<BoundAccount> {
    const binding = await this.ds.getRepository(Binding).findOne({ where: { residentId, accountId, unboundAt: IsNull() } });
    if (!binding) throw new AppError('NOT_FOUND');
    return (await this.present([binding]))[0];
  }

  /** Throws NOT_FOUND unless the resident has bound the account. For other modules. */
  async assertBound(residentId: number, accountId: number): Promise<Account> {
    const binding = await this.ds.getRepository(Binding).findOne({ where: { residentId, accountId, unboundAt: IsNull() } });
    if (!binding) throw new AppError('NOT_FOUND');
    return this.ds.getRepository(Account).findOneByOrFail({ id: accountId });
  }

  /** Residents currently bound to an account (for notifications). */
  async residentsOf(accountId: number): Promise<number[]> {
    const rows = await this.ds.getRepository(Binding).find({ where: { accountId, unboundAt: IsNull() } });
    return rows.map((r) => r.residentId);
  }

  /**
   * Bind an account by its number and one fact (owner name or phone last 4). Every try is counted
   * first against the resident, the account number and the client address (limits
   * bind.resident / bind.account / bind.address), so parallel guesses and fresh WeChat
   * identities get no extra tries; a try whose facts were right is given back. An unknown
   * account and a wrong fact answer alike (no way to learn which account numbers exist).
   */
  async bind(residentId: number, req: BindRequest & { relation: BindingRelation }, address = 'unknown'): Promise<BoundAccount> {
    const now = this.clock();
    const taken = await this.limiter.take([
      { limit: 'bind.resident', subject: residentId },
      { limit: 'bind.account', subject: req.accountNo },
      { limit: 'bind.address', subject: address },
    ]);
    const account = await this.ds.getRepository(Account).findOne({ where: { accountNo: req.accountNo } });
    const factOk =
      !!account &&
      (req.ownerName ? normName(req.ownerName) === normName(account.ownerName) : !!account.contactPhone && phoneLast4(account.contactPhone) === req.phoneLast4);
    if (!account || !factOk) {
      await this.ds.getRepository(BindAttempt).insert({ residentId, accountNo: req.accountNo, success: false, at: now });
      const base = '户号与户主姓名或手机号后四位不一致，请核对缴费单';
      throw new AppError('BIND_FACT_MISMATCH', { attemptsLeft: taken.left, ...(taken.left ? {} : { retryAfterSeconds: taken.resetsIn }) }).say(
        taken.left ? `${base}（还可尝试${taken.left}次）` : `${base}。失败次数已达上限，${retryText(taken.resetsIn, await this.limiter.hotlineSafe())}`,
      );
    }
    // the facts were right: this try doesn't count, whatever happens next
    await taken.giveBack();

    const binding = await withTx(this.ds, async (em) => {
      // lock the resident so two binds at once can't pass the limit of 10 together
      await this.peers.identity.lockResident(em, residentId);
      const existing = await em.findOne(Binding, { where: { residentId, accountId: account.id } });
      if (existing && !existing.unboundAt) throw new AppError('ALREADY_BOUND');
      const active = await em.count(Binding, { where: { residentId, unboundAt: IsNull() } });
      if (active >= MAX_BINDINGS_PER_RESIDENT) throw new AppError('BIND_LIMIT_REACHED', { max: MAX_BINDINGS_PER_RESIDENT });
      let row: Binding;
      if (existing) {
        existing.unboundAt = null;
        existing.boundAt = now;
        existing.relation = req.relation;
        row = await em.save(existing);
      } else {
        try {
          row = await em.save(em.create(Binding, { residentId, accountId: account.id, relation: req.relation, boundAt: now, unboundAt: null }));
        } catch (err) {
          if (isUniqueViolation(err)) throw new AppError('ALREADY_BOUND');
          throw err;
        }
      }
      await em.insert(BindAttempt, { residentId, accountNo: req.accountNo, success: true, at: now });
      await this.peers.events.emit(em, 'binding.changed', [{ residentId, accountId: account.id, buildingId: account.buildingId, bound: true }]);
      return row;
    });
    return (await this.present([binding]))[0];
  }

  async unbind(residentId: number, accountId: number): Promise<void> {
    await withTx(this.ds, async (em) => {
      const binding = await em.findOne(Binding, { where: { residentId, accountId, unboundAt: IsNull() } });
      if (!binding) throw new AppError('BINDING_NOT_FOUND');
      await em.update(Binding, binding.id, { unboundAt: this.clock() });
      const account = await em.findOneByOrFail(Account, { id: accountId });
      await this.peers.events.emit(em, 'binding.changed', [{ residentId, accountId, buildingId: account.buildingId, bound: false }]);
    });
  }

  // ---- presentation -------------------------------------------------------------------------

  private async present(bindings: Binding[]): Promise<BoundAccount[]> {
    if (!bindings.length) return [];
    const accounts = await this.ds.getRepository(Account).find({ where: { id: In(bindings.map((b) => b.accountId)) } });
    const ctx = await this.addressContext(accounts);
    const byId = new Map(accounts.map((a) => [a.id, a]));
    return bindings.map((b) => {
      const a = byId.get(b.accountId)!;
      return {
        bindingId: b.id,
        accountId: a.id,
        accountNo: a.accountNo,
        relation: b.relation,
        address: ctx.address(a),
        areaName: ctx.areas.get(a.areaId)?.name ?? '',
        buildingId: a.buildingId,
        buildingName: ctx.buildings.get(a.buildingId)?.name ?? '',
        ownerNameMasked: maskName(a.ownerName),
        phoneMasked: maskPhone(a.contactPhone),
        heatedArea: a.heatedArea,
        use: a.use,
        status: a.status,
        boundAt: b.boundAt.toISOString(),
      };
    });
  }

  // ---- administration (seed, import) --------------------------------------------------------

  async createBuilding(input: { areaId: number; name: string; address: string; substation?: string | null }): Promise<Building> {
    return withTx(this.ds, async (em) => {
      const building = await em.save(em.create(Building, { ...input, substation: input.substation ?? null }));
      await this.peers.events.emit(em, 'building.created', [{ buildingId: building.id, areaId: building.areaId }]);
      return building;
    });
  }

  async ensureUnit(buildingId: number, no: string): Promise<Unit> {
    const repo = this.ds.getRepository(Unit);
    return (await repo.findOneBy({ buildingId, no })) ?? repo.save(repo.create({ buildingId, no }));
  }

  async createAccount(
    input: Pick<Account, 'accountNo' | 'unitId' | 'roomNo' | 'ownerName' | 'contactPhone' | 'heatedArea' | 'use' | 'status'>,
  ): Promise<Account> {
    const unit = await this.ds.getRepository(Unit).findOneByOrFail({ id: input.unitId });
    const building = await this.ds.getRepository(Building).findOneByOrFail({ id: unit.buildingId });
    const repo = this.ds.getRepository(Account);
    return repo.save(repo.create({ ...input, buildingId: building.id, areaId: building.areaId }));
  }

  // ---- batch administration (household import; admin module) ---------------------------------

  /** Units of some buildings. */
  async unitsOfBuildings(buildingIds: number[], em: EntityManager = this.ds.manager): Promise<Unit[]> {
    const out: Unit[] = [];
    for (const ids of chunks([...new Set(buildingIds)], 1000)) out.push(...(await em.find(Unit, { where: { buildingId: In(ids) } })));
    return out;
  }

  /** Who occupies the rooms of some units: account number by unit and room. */
  async occupants(unitIds: number[], em: EntityManager = this.ds.manager): Promise<{ accountNo: string; unitId: number; roomNo: string }[]> {
    const out: { accountNo: string; unitId: number; roomNo: string }[] = [];
    for (const ids of chunks([...new Set(unitIds)], 1000)) {
      const rows = await em.find(Account, { select: { accountNo: true, unitId: true, roomNo: true }, where: { unitId: In(ids) } });
      out.push(...rows.map((r) => ({ accountNo: r.accountNo, unitId: r.unitId, roomNo: r.roomNo })));
    }
    return out;
  }

  /** Account ids of some account numbers (those that exist). */
  async idsByAccountNo(accountNos: string[], em: EntityManager = this.ds.manager): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    // a plain query: the query builder's bookkeeping of 1,000 parameters costs more than the lookup
    const q = (c: string) => em.connection.driver.escape(c);
    for (const nos of chunks([...new Set(accountNos)], 1000)) {
      const rows: { id: number | string; accountNo: string }[] = await em.query(
        `SELECT ${q('id')} AS id, ${q('accountNo')} AS accountNo FROM ${q('account')} WHERE ${q('accountNo')} IN (${nos.map(() => '?').join(', ')})`,
        nos,
      );
      for (const r of rows) out.set(String(r.accountNo), Number(r.id));
    }
    return out;
  }

  /**
   * Write buildings, units and accounts in batches inside the caller's transaction: buildings are
   * upserted by (area, name), units inserted when missing, accounts upserted by account number
   * (a re-import updates, never duplicates). New buildings are announced (building.created) in the
   * same transaction. `onBatch` reports accounts written so far.
   */
  async upsertHouseholds(
    em: EntityManager,
    input: {
      buildings: { areaId: number; name: string; address: string }[];
      units: { areaId: number; buildingName: string; no: string }[];
      accounts: (Pick<Account, 'accountNo' | 'roomNo' | 'ownerName' | 'contactPhone' | 'heatedArea' | 'use' | 'status'> & {
        areaId: number;
        buildingName: string;
        unitNo: string;
      })[];
    },
    onBatch?: (written: number) => Promise<void> | void,
  ): Promise<{
    buildingsCreated: Building[];
    unitsCreated: number;
    /** building and unit ids of each unit of the input, in its order */
    unitIds: { buildingId: number; unitId: number }[];
  }> {
    const now = this.clock();
    const bKey = (areaId: number, name: string) => `${areaId}\u0000${name}`;
    const before = new Map((await em.find(Building, { select: { id: true, areaId: true, name: true } })).map((b) => [bKey(b.areaId, b.name), b.id]));
    for (const rows of chunks(input.buildings, 500)) {
      await em
        .createQueryBuilder()
        .insert()
        .into(Building)
        .values(rows.map((b) => ({ ...b, substation: null, createdAt: now })))
        .orUpdate(['address'], ['areaId', 'name'])
        .updateEntity(false)
        .execute();
    }
    const buildings = await em.find(Building);
    const buildingId = new Map(buildings.map((b) => [bKey(b.areaId, b.name), b.id]));
    const buildingsCreated = buildings.filter((b) => !before.has(bKey(b.areaId, b.name)));
    await this.peers.events.emit(
      em,
      'building.created',
      buildingsCreated.map((b) => ({ buildingId: b.id, areaId: b.areaId })),
    );

    const uKey = (bid: number, no: string) => `${bid}\u0000${no}`;
    const ids = [...new Set(input.units.map((u) => buildingId.get(bKey(u.areaId, u.buildingName))!))];
    const existingUnits = new Set((await this.unitsOfBuildings(ids, em)).map((u) => uKey(u.buildingId, u.no)));
    const newUnits = input.units
      .map((u) => ({ buildingId: buildingId.get(bKey(u.areaId, u.buildingName))!, no: u.no }))
      .filter((u) => !existingUnits.has(uKey(u.buildingId, u.no)));
    for (const rows of chunks(newUnits, 1000)) await em.createQueryBuilder().insert().into(Unit).values(rows).orIgnore().updateEntity(false).execute();
    const unitId = new Map((await this.unitsOfBuildings(ids, em)).map((u) => [uKey(u.buildingId, u.no), u.id]));

    let written = 0;
    for (const rows of chunks(input.accounts, ACCOUNT_BATCH)) {
      const values = rows.map((a) => {
        const bid = buildingId.get(bKey(a.areaId, a.buildingName))!;
        return {
          accountNo: a.accountNo,
          areaId: a.areaId,
          buildingId: bid,
          unitId: unitId.get(uKey(bid, a.unitNo))!,
          roomNo: a.roomNo,
          ownerName: a.ownerName,
          contactPhone: a.contactPhone,
          heatedArea: a.heatedArea,
          use: a.use,
          status: a.status,
          createdAt: now,
          updatedAt: now,
        };
      });
      await upsertRows(
        em,
        Account,
        values,
        ['areaId', 'buildingId', 'unitId', 'roomNo', 'ownerName', 'contactPhone', 'heatedArea', 'use', 'status', 'updatedAt'],
        ['accountNo'],
      );
      written += rows.length;
      await onBatch?.(written);
    }
    const unitIds = input.units.map((u) => {
      const bid = buildingId.get(bKey(u.areaId, u.buildingName))!;
      return { buildingId: bid, unitId: unitId.get(uKey(bid, u.no))! };
    });
    return { buildingsCreated, unitsCreated: newUnits.length, unitIds };
  }

  /**
   * MySQL/MariaDB: upsert accounts by account number straight from a SELECT (the household
   * import's staged rows), in the caller's transaction, with the same columns and rules as
   * upsertHouseholds. The SELECT gives accountNo, areaId, buildingId, unitId, roomNo, ownerName,
   * contactPhone, heatedArea (hundredths of m²), accountUse, accountStatus, and rowNo (the order
   * new accounts take their ids in); buildings and units must exist (upsertHouseholds first).
   */
  async upsertAccountsFrom(em: EntityManager, source: { sql: string; params: unknown[] }): Promise<void> {
    const now = this.clock();
    const cols = [
      'accountNo',
      'areaId',
      'buildingId',
      'unitId',
      'roomNo',
      'ownerName',
      'contactPhone',
      'heatedArea',
      'use',
      'status',
      'createdAt',
      'updatedAt',
    ];
    const update = ['areaId', 'buildingId', 'unitId', 'roomNo', 'ownerName', 'contactPhone', 'heatedArea', 'use', 'status', 'updatedAt'];
    const q = (c: string) => em.connection.driver.escape(c);
    await em.query(
      `INSERT INTO ${q('account')} (${cols.map(q).join(', ')})
       SELECT src.accountNo, src.areaId, src.buildingId, src.unitId, src.roomNo, src.ownerName, src.contactPhone, src.heatedArea, src.accountUse, src.accountStatus, ?, ?
       FROM (${source.sql}) src ORDER BY src.rowNo
       ON DUPLICATE KEY UPDATE ${update.map((c) => `${q(c)} = VALUES(${q(c)})`).join(', ')}`,
      [now, now, ...source.params],
    );
  }

  /** A page of accounts with their address parts, by id (exports). */
  async exportPage(afterId: number, limit: number) {
    const rows: Record<string, any>[] = await this.ds
      .createQueryBuilder()
      .from(Account, 'a')
      .innerJoin(Building, 'b', 'b.id = a.buildingId')
      .innerJoin(Unit, 'u', 'u.id = a.unitId')
      .select(['a.id AS id', 'a.accountNo AS accountNo', 'a.areaId AS areaId', 'b.name AS buildingName', 'b.address AS buildingAddress', 'u.no AS unitNo'])
      .addSelect([
        'a.roomNo AS roomNo',
        'a.ownerName AS ownerName',
        'a.contactPhone AS contactPhone',
        'a.heatedArea AS heatedArea',
        'a.use AS accountUse',
        'a.status AS accountStatus',
      ])
      .where('a.id > :afterId', { afterId })
      .orderBy('a.id', 'ASC')
      .limit(limit)
      .getRawMany();
    const areaCodes = new Map(rows.length ? (await this.peers.company.areas()).map((x) => [x.id, x.code] as const) : []);
    return rows.map((r) => ({
      id: Number(r.id),
      accountNo: String(r.accountNo),
      areaCode: String(areaCodes.get(Number(r.areaId ?? r.areaid)) ?? ''),
      buildingName: String(r.buildingName),
      buildingAddress: String(r.buildingAddress),
      unitNo: String(r.unitNo),
      roomNo: String(r.roomNo),
      ownerName: String(r.ownerName),
      contactPhone: (r.contactPhone ?? null) as string | null,
      heatedArea: Number(r.heatedArea),
      use: r.accountUse as Account['use'],
      status: r.accountStatus as Account['status'],
    }));
  }

  /** Account numbers of some account ids. */
  async accountNosByIds(ids: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const part of chunks([...new Set(ids)], 1000)) {
      for (const a of await this.ds.getRepository(Account).find({ select: { id: true, accountNo: true }, where: { id: In(part) } })) out.set(a.id, a.accountNo);
    }
    return out;
  }

  /**
   * The account's heating status. Only service-changes moves it, when the valve work is done,
   * inside its own transaction (em).
   */
  async setStatus(em: EntityManager, accountId: number, status: Account['status']): Promise<void> {
    await em.update(Account, accountId, { status });
  }
}
