import type { DataSource, EntityManager } from 'typeorm';
import { parseStoredRules, type CompanyRules, type CompanyInfo } from '@heat-butler/shared';
import { Area, Company } from './entities';

/**
 * How long an instance reuses the company row it read: the settings are read by most requests
 * (every bill priced, every deadline) and change a few times a year. A write through TypeORM on
 * this instance drops the copy at once (and again when its transaction commits); other instances
 * see it within this time.
 */
export const COMPANY_CACHE_MS = 5_000;

export class CompanyService {
  private cached: { company: Company; rules?: CompanyRules; until: number } | null = null;
  /** bumped by every write and commit: a read that overlapped one is not kept */
  private generation = 0;
  /** the read of the company row under way, if any (read()) */
  private reading: { company: Promise<Company>; generation: number } | null = null;

  constructor(private ds: DataSource) {
    // the transactions (query runners) that wrote the company row and have not committed yet
    const writing = new WeakSet<object>();
    const written = (e: { queryRunner?: object }) => {
      this.forget();
      if (e.queryRunner) writing.add(e.queryRunner);
    };
    (ds.subscribers as unknown as object[]).push({
      listenTo: () => Company,
      afterInsert: written,
      afterUpdate: written,
      afterRemove: written,
      afterTransactionCommit: (e: { queryRunner: object }) => {
        if (writing.delete(e.queryRunner)) this.forget();
      },
    });
  }

  async get(): Promise<Company> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.company;
    return this.read();
  }

  /**
   * One read of the company row at a time: the requests that find the copy run out while a read is
   * on its way wait for that read instead of each starting its own. Without this, every request in
   * flight when the copy ran out read the row again (50 at once under bench:bills's load, every
   * COMPANY_CACHE_MS and after every idle spell: the BFF's slowest answers). A write since the read
   * began (generation) makes the next caller read again.
   */
  private read(): Promise<Company> {
    if (this.reading?.generation === this.generation) return this.reading.company;
    const [readAt, generation] = [Date.now(), this.generation];
    const company = this.ds
      .getRepository(Company)
      .findOne({ where: {}, order: { id: 'ASC' } })
      .then((c) => {
        if (!c) throw new Error('company not configured: run the seed or the admin import');
        if (generation === this.generation) this.cached = { company: c, until: readAt + COMPANY_CACHE_MS };
        return c;
      });
    const done = () => {
      if (this.reading?.company === company) this.reading = null;
    };
    company.then(done, done);
    this.reading = { company, generation };
    return company;
  }

  private forget(): void {
    this.cached = null;
    this.generation++;
  }

  async info(): Promise<CompanyInfo> {
    const c = await this.get();
    return { name: c.name, hotline: c.hotline };
  }

  /** The company's rules with every default filled in. */
  async rules(): Promise<CompanyRules> {
    const c = await this.get();
    const cached = this.cached?.company === c ? this.cached : null;
    if (cached?.rules) return cached.rules;
    // shared by every caller until the next change: frozen, so no caller can change it for the others
    const rules = frozen(parseStoredRules(c.rules ?? {}));
    if (cached) cached.rules = rules;
    return rules;
  }

  async ensure(name: string, hotline: string, rules: Partial<CompanyRules> = {}): Promise<Company> {
    const repo = this.ds.getRepository(Company);
    const existing = await repo.findOne({ where: {}, order: { id: 'ASC' } });
    if (existing) return existing;
    return repo.save(repo.create({ name, hotline, rules }));
  }

  async createArea(code: string, name: string, em: EntityManager = this.ds.manager): Promise<Area> {
    const repo = em.getRepository(Area);
    return repo.save(repo.create({ code, name }));
  }

  async renameArea(em: EntityManager, id: number, name: string): Promise<void> {
    await em.update(Area, id, { name });
  }

  async area(id: number): Promise<Area | null> {
    return this.ds.getRepository(Area).findOneBy({ id });
  }

  /** Admin: replace the company's name, hotline and rules inside the caller's transaction. */
  async updateSettings(em: EntityManager, input: { name: string; hotline: string; rules: CompanyRules }): Promise<void> {
    const c = await em.findOne(Company, { where: {}, order: { id: 'ASC' } });
    if (!c) throw new Error('company not configured');
    await em.update(Company, c.id, { name: input.name, hotline: input.hotline, rules: input.rules });
  }

  async areas(): Promise<Area[]> {
    return this.ds.getRepository(Area).find({ order: { id: 'ASC' } });
  }
}

/** The value, frozen all the way down. */
function frozen<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}
