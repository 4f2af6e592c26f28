import type { DataSource, EntityManager } from 'typeorm';
import { parseStoredRules, type CompanyRules, type CompanyInfo } from '@heat-butler/shared';
import { Area, Company } from './entities';

export class CompanyService {
  constructor(private ds: DataSource) {}

  async get(): Promise<Company> {
    const c = await this.ds.getRepository(Company).findOne({ where: {}, order: { id: 'ASC' } });
    if (!c) throw new Error('company not configured: run the seed or the admin import');
    return c;
  }

  async info(): Promise<CompanyInfo> {
    const c = await this.get();
    return { name: c.name, hotline: c.hotline };
  }

  /** The company's rules with every default filled in. */
  async rules(): Promise<CompanyRules> {
    return parseStoredRules((await this.get()).rules ?? {});
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
