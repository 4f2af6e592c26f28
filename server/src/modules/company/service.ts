import type { DataSource } from 'typeorm';
import { CompanyRules, type CompanyInfo } from '@heat-butler/shared';
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
    return CompanyRules.parse((await this.get()).rules ?? {});
  }

  async ensure(name: string, hotline: string, rules: Partial<CompanyRules> = {}): Promise<Company> {
    const repo = this.ds.getRepository(Company);
    const existing = await repo.findOne({ where: {}, order: { id: 'ASC' } });
    if (existing) return existing;
    return repo.save(repo.create({ name, hotline, rules }));
  }

  async createArea(code: string, name: string): Promise<Area> {
    const repo = this.ds.getRepository(Area);
    return repo.save(repo.create({ code, name }));
  }

  async areas(): Promise<Area[]> {
    return this.ds.getRepository(Area).find({ order: { id: 'ASC' } });
  }
}
