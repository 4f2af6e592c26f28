import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import {
  AUDIT_ACTION_LABEL,
  CompanySettings,
  chinaDate,
  type AreaView,
  type AuditEntryView,
  type CompanySettingsInput,
  type StaffDashboard,
  type StaffRole,
  type StaffView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { isUniqueViolation, withTx } from '../../platform/db/data-source';
import type { StaffPrincipal } from '../../platform/auth';
import { staffAreaFilter } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import type { AccountsService } from '../accounts';
import type { BillingService } from '../billing';
import type { CompanyService } from '../company';
import type { IdentityService } from '../identity';
import type { PaymentsService } from '../payments';
import type { GroupsService } from '../groups';
import type { RepairsService } from '../repairs';
import type { ServiceChangesService } from '../service-changes';
import { audit, type AdminActor } from './audit';
import { AuditLog } from './entities';
import { HouseholdImporter } from './import';
import { AdminExports } from './exports';

export interface AdminDeps {
  ds: DataSource;
  clock: () => Date;
  log: Logger;
  company: CompanyService;
  identity: IdentityService;
  accounts: AccountsService;
  billing: BillingService;
  payments: PaymentsService;
  groups: GroupsService;
  repairs: RepairsService;
  serviceChanges: ServiceChangesService;
}

export const actorOfStaff = (p: StaffPrincipal): AdminActor => ({ staffId: p.staffId, name: p.name });

/** Company administration: household import/export, staff and areas, settings, audit, dashboard. */
export class AdminService {
  readonly imports: HouseholdImporter;
  private exports: AdminExports;

  constructor(private d: AdminDeps) {
    this.imports = new HouseholdImporter(d);
    this.exports = new AdminExports(d, this.imports);
  }

  // ---- template and exports (exports.ts) ------------------------------------------------------

  template(): Promise<Buffer> {
    return this.exports.template();
  }

  importReport(jobId: number): Promise<Buffer> {
    return this.exports.importReport(jobId);
  }

  exportAccounts(): Promise<Readable> {
    return this.exports.accounts();
  }

  exportBills(seasonCode?: string): Promise<Readable> {
    return this.exports.bills(seasonCode);
  }

  exportPayments(fromDate: string, toDate: string): Promise<Readable> {
    return this.exports.payments(fromDate, toDate);
  }

  // ---- staff and areas ----------------------------------------------------------------------

  async listStaff(): Promise<StaffView[]> {
    return Promise.all((await this.d.identity.listStaff()).map((s) => this.withLock(s)));
  }

  private async withLock(s: Parameters<typeof staffView>[0]): Promise<StaffView> {
    return { ...staffView(s), loginLockedUntil: (await this.d.identity.loginLockedUntil(s.username))?.toISOString() ?? null };
  }

  /** Lift a staff member's password-login lockout (too many wrong passwords). */
  async unlockStaff(actor: AdminActor, staffId: number): Promise<StaffView> {
    const before = await this.staffById(staffId);
    await this.d.identity.unlockLogin(before.username);
    await withTx(this.d.ds, (em) =>
      audit(
        em,
        this.d.clock(),
        actor,
        'staff.unlock',
        { type: 'staff', id: staffId },
        { loginLockedUntil: before.loginLockedUntil },
        { loginLockedUntil: null },
      ),
    );
    return this.staffById(staffId);
  }

  async createStaff(actor: AdminActor, input: { username: string; name: string; password: string; roles: StaffRole[]; areaIds: number[] }): Promise<StaffView> {
    await this.assertAreas(input.areaIds);
    const id = await withTx(this.d.ds, async (em) => {
      const staff = await this.d.identity.createStaff(input, em);
      await audit(em, this.d.clock(), actor, 'staff.create', { type: 'staff', id: staff.id }, null, {
        username: input.username,
        name: input.name,
        roles: input.roles,
        areaIds: input.areaIds,
      });
      return staff.id;
    });
    return this.staffById(id);
  }

  async updateStaff(actor: AdminActor, staffId: number, patch: { name?: string; roles?: StaffRole[]; areaIds?: number[] }): Promise<StaffView> {
    if (patch.areaIds) await this.assertAreas(patch.areaIds);
    const before = await this.staffById(staffId);
    // like disabling oneself: an admin who drops their own admin role locks themselves out
    if (actor.staffId === staffId && patch.roles && !patch.roles.includes('admin') && before.roles.includes('admin'))
      throw new AppError('CANNOT_DROP_OWN_ADMIN');
    await withTx(this.d.ds, async (em) => {
      await this.d.identity.updateStaff(em, staffId, patch);
      const pick = (s: Partial<StaffView>) => ({ name: s.name, roles: s.roles, areaIds: s.areaIds });
      await audit(em, this.d.clock(), actor, 'staff.update', { type: 'staff', id: staffId }, pick(before), pick({ ...before, ...patch }));
    });
    this.d.identity.staffChanged(staffId);
    return this.staffById(staffId);
  }

  async disableStaff(actor: AdminActor, staffId: number): Promise<StaffView> {
    if (actor.staffId === staffId) throw new AppError('CANNOT_DISABLE_SELF');
    const before = await this.staffById(staffId);
    await withTx(this.d.ds, async (em) => {
      await this.d.identity.disableStaff(staffId, em);
      await audit(em, this.d.clock(), actor, 'staff.disable', { type: 'staff', id: staffId }, { disabled: before.disabled }, { disabled: true });
    });
    this.d.identity.staffChanged(staffId);
    return this.staffById(staffId);
  }

  async invite(actor: AdminActor & { staffId: number }, staffId: number) {
    await this.staffById(staffId);
    const res = await this.d.identity.createInvite(staffId, actor.staffId);
    await withTx(this.d.ds, (em) => audit(em, this.d.clock(), actor, 'staff.invite', { type: 'staff', id: staffId }, null, { expiresAt: res.expiresAt }));
    return res;
  }

  private async staffById(id: number): Promise<StaffView> {
    const s = (await this.d.identity.listStaff()).find((x) => x.id === id);
    if (!s) throw new AppError('NOT_FOUND');
    return this.withLock(s);
  }

  private async assertAreas(ids: number[]): Promise<void> {
    const known = new Set((await this.d.company.areas()).map((a) => a.id));
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'areaIds', message: `片区不存在：${missing.join('、')}` }] });
  }

  async areas(): Promise<AreaView[]> {
    return (await this.d.company.areas()).map((a) => ({ id: a.id, code: a.code, name: a.name }));
  }

  async createArea(actor: AdminActor, input: { code: string; name: string }): Promise<AreaView> {
    const code = input.code.toUpperCase();
    try {
      return await withTx(this.d.ds, async (em) => {
        const a = await this.d.company.createArea(code, input.name, em);
        await audit(em, this.d.clock(), actor, 'area.create', { type: 'area', id: a.id }, null, { code, name: input.name });
        return { id: a.id, code: a.code, name: a.name };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('AREA_CODE_EXISTS');
      throw err;
    }
  }

  async renameArea(actor: AdminActor, id: number, name: string): Promise<AreaView> {
    const before = await this.d.company.area(id);
    if (!before) throw new AppError('NOT_FOUND');
    await withTx(this.d.ds, async (em) => {
      await this.d.company.renameArea(em, id, name);
      await audit(em, this.d.clock(), actor, 'area.rename', { type: 'area', id }, { name: before.name }, { name });
    });
    return { id, code: before.code, name };
  }

  // ---- company settings ---------------------------------------------------------------------

  async settings(): Promise<CompanySettings> {
    const c = await this.d.company.get();
    return { name: c.name, hotline: c.hotline, rules: await this.d.company.rules() };
  }

  /** Replace the settings (validated as a whole by the route); audited with before/after. Read at action time, so later actions only. */
  async updateSettings(actor: AdminActor, input: CompanySettingsInput): Promise<CompanySettings> {
    const next = CompanySettings.parse(input);
    const before = await this.settings();
    await withTx(this.d.ds, async (em) => {
      await this.d.company.updateSettings(em, next);
      const changed = diff(before, next);
      await audit(em, this.d.clock(), actor, 'settings.update', { type: 'company' }, changed.before, changed.after);
    });
    return this.settings();
  }

  // ---- audit log ----------------------------------------------------------------------------

  async auditLog(q: { action?: string; page: number; pageSize: number }) {
    const [rows, total] = await this.d.ds.getRepository(AuditLog).findAndCount({
      where: q.action ? { action: q.action } : {},
      order: { id: 'DESC' },
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
    });
    const items: AuditEntryView[] = rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actorId: r.actorId,
      actorName: r.actorName,
      action: r.action,
      actionLabel: AUDIT_ACTION_LABEL[r.action] ?? r.action,
      targetType: r.targetType,
      targetId: r.targetId,
      before: r.before,
      after: r.after,
    }));
    return { items, total, page: q.page, pageSize: q.pageSize };
  }

  // ---- staff dashboard ----------------------------------------------------------------------

  /** The day's numbers for the staff home, each part only for the roles that act on it. */
  async dashboard(p: StaffPrincipal): Promise<StaffDashboard> {
    const now = this.d.clock();
    const date = chinaDate(now);
    const dayStart = new Date(`${date}T00:00:00+08:00`);
    const dayEnd = new Date(dayStart.getTime() + 86_400_000);
    const has = (...roles: StaffRole[]) => p.roles.includes('admin') || roles.some((r) => p.roles.includes(r));
    const out: StaffDashboard = {
      date,
      payments: null,
      repairs: null,
      messages: null,
      serviceChanges: null,
      reconciliation: null,
      paymentsByDay: null,
      repairsByDay: null,
    };
    // the last 7 China dates, oldest first: [start, end) of each
    const days = Array.from({ length: 7 }, (_, i) => {
      const from = new Date(dayStart.getTime() - (6 - i) * 86_400_000);
      return { date: chinaDate(from), from, to: new Date(from.getTime() + 86_400_000) };
    });
    if (has('finance')) {
      out.payments = await this.d.payments.paidTotals(dayStart, dayEnd);
      out.paymentsByDay = [];
      for (const d of days) out.paymentsByDay.push({ date: d.date, ...(await this.d.payments.paidTotals(d.from, d.to, p)) });
    }
    if (has('dispatcher', 'worker', 'agent', 'butler')) {
      const workerOnly = has('worker') && !has('dispatcher', 'agent', 'butler');
      // overdue / due soon by the shared rule (shared/src/overdue.ts), as on the repairs page
      out.repairs = await this.d.repairs.deadlineSummary(p, workerOnly);
      const count = (column: 'createdAt' | 'closedAt', d: (typeof days)[number]) => this.d.repairs.countBetween(p, column, d.from, d.to, workerOnly);
      out.repairsByDay = [];
      for (const d of days) out.repairsByDay.push({ date: d.date, opened: await count('createdAt', d), closed: await count('closedAt', d) });
    }
    if (has('agent', 'butler')) {
      const page = await this.d.groups.inbox(p, { view: 'pending', page: 1, pageSize: 1 });
      out.messages = { unanswered: page.total };
    }
    if (has('agent', 'butler', 'station')) {
      out.serviceChanges = await this.d.serviceChanges.openCounts(p);
    }
    return out;
  }
}

function staffView(s: {
  id: number;
  username: string;
  name: string;
  roles: StaffRole[];
  areaIds: number[];
  disabled: boolean;
  openid: string | null;
  createdAt: Date;
}): Omit<StaffView, 'loginLockedUntil'> {
  return {
    id: s.id,
    username: s.username,
    name: s.name,
    roles: s.roles,
    areaIds: s.areaIds,
    disabled: s.disabled,
    wechatBound: !!s.openid,
    createdAt: s.createdAt.toISOString(),
  };
}

/** The parts of two objects that differ, by top-level key and one level of nesting. */
function diff(a: Record<string, any>, b: Record<string, any>): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k];
    const y = b[k];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x)) {
      const d = diff(x, y);
      before[k] = d.before;
      after[k] = d.after;
    } else {
      before[k] = x;
      after[k] = y;
    }
  }
  return { before, after };
}
