import { PassThrough, type Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import {
  ACCOUNT_STATUS_LABEL,
  ACCOUNT_USE_LABEL,
  AUDIT_ACTION_LABEL,
  BILL_KIND_LABEL,
  BILL_STATUS_LABEL,
  CompanySettings,
  HOUSEHOLD_COLUMNS,
  REPAIR_OPEN_STATES,
  arrearsHeader,
  chinaDate,
  fenToYuanString,
  formatChinaTime,
  type AreaView,
  type AuditEntryView,
  type CompanySettingsInput,
  type StaffDashboard,
  type StaffRole,
  type StaffView,
} from '@heat-butler/shared';
import { AppError, errorSummary } from '../../platform/errors';
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

  constructor(private d: AdminDeps) {
    this.imports = new HouseholdImporter(d);
  }

  // ---- template and exports -------------------------------------------------------------------

  /** The import template: Chinese headers, one example row, and a sheet of instructions. */
  async template(): Promise<Buffer> {
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('住户');
    const seasons = await this.d.billing.seasons();
    const season = seasons[seasons.length > 1 ? 1 : 0]?.code ?? '2025-2026';
    ws.columns = [...HOUSEHOLD_COLUMNS.map((c) => ({ header: c.header, key: c.key, width: c.width })), { header: arrearsHeader(season), key: 'arrears', width: 16 }];
    ws.addRow({ ...Object.fromEntries(HOUSEHOLD_COLUMNS.map((c) => [c.key, c.example])), arrears: '2430.50' });
    // account numbers, units, rooms and phones are text: keep leading zeros
    for (const key of ['accountNo', 'unitNo', 'roomNo', 'contactPhone', 'heatedArea', 'arrears']) ws.getColumn(key).numFmt = '@';
    ws.getRow(1).font = { bold: true };
    ws.views = [{ state: 'frozen', ySplit: 1 }];
    const help = wb.addWorksheet('填写说明');
    help.columns = [{ header: '列', key: 'col', width: 18 }, { header: '说明', key: 'text', width: 80 }];
    const notes: [string, string][] = [
      ['户号', '必填，6-20位数字或大写字母；再次导入时按户号更新，不会重复'],
      ['片区编码', '必填，须为系统中已有的片区编码（片区管理中查看）'],
      ['楼栋 / 楼栋地址', '必填；同一片区同名楼栋视为同一栋楼，地址须一致'],
      ['单元 / 房号', '必填，如 1 / 1202；同一房间只能有一个户号'],
      ['户主姓名', '必填，住户绑定户号时核对'],
      ['联系电话', '选填，11位手机号或带区号的座机号'],
      ['供热面积（㎡）', '必填，大于0，最多两位小数'],
      ['用途', '必填：居民 或 非居民'],
      ['状态', '选填：正常供热（默认）、已报停、已封阀、已销户'],
      ['欠费YYYY-YYYY（元）', '选填，可有多列，每列一个采暖季；金额单位元，最多两位小数；该采暖季须已在系统中添加'],
      ['校验', '导入前逐行校验，有任何问题时一次列出所有问题行，且不写入任何数据'],
    ];
    for (const [col, text] of notes) help.addRow({ col, text });
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  /** Every problem of an import as a sheet: row, column, value, message. */
  async importReport(jobId: number): Promise<Buffer> {
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('导入问题');
    ws.columns = [
      { header: '行号', key: 'row', width: 8 },
      { header: '列', key: 'column', width: 18 },
      { header: '填写的内容', key: 'value', width: 28 },
      { header: '问题', key: 'message', width: 60 },
    ];
    for (const i of await this.imports.issues(jobId)) ws.addRow(i);
    ws.getRow(1).font = { bold: true };
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  /** Every account in the import's shape (so the file can be imported again), streamed. */
  async exportAccounts(): Promise<Readable> {
    const seasons = await this.d.billing.seasonsWithUnpaid();
    return this.streamSheet('住户', [...HOUSEHOLD_COLUMNS.map((c) => ({ header: c.header, key: c.key, width: c.width })), ...seasons.map((s) => ({ header: arrearsHeader(s), key: `s:${s}`, width: 16 }))], async (add) => {
      for (let after = 0; ; ) {
        const page = await this.d.accounts.exportPage(after, 2000);
        if (!page.length) break;
        const unpaid = await this.d.billing.unpaidByAccount(page.map((a) => a.id));
        for (const a of page) {
          const row: Record<string, string> = {
            accountNo: a.accountNo,
            areaCode: a.areaCode,
            buildingName: a.buildingName,
            buildingAddress: a.buildingAddress,
            unitNo: a.unitNo,
            roomNo: a.roomNo,
            ownerName: a.ownerName,
            contactPhone: a.contactPhone ?? '',
            heatedArea: (a.heatedArea / 100).toFixed(2),
            use: ACCOUNT_USE_LABEL[a.use],
            status: ACCOUNT_STATUS_LABEL[a.status],
          };
          for (const u of unpaid.get(a.id) ?? []) row[`s:${u.season}`] = fenToYuanString(u.fen);
          add(row);
        }
        after = page[page.length - 1]!.id;
      }
    });
  }

  async exportBills(seasonCode?: string): Promise<Readable> {
    const seasonId = seasonCode ? (await this.d.billing.seasonByCode(seasonCode)).id : null;
    const cols = [
      { header: '户号', key: 'accountNo', width: 14 },
      { header: '采暖季', key: 'season', width: 12 },
      { header: '类型', key: 'kind', width: 16 },
      { header: '状态', key: 'status', width: 8 },
      { header: '供热面积（㎡）', key: 'area', width: 12 },
      { header: '单价（元/㎡）', key: 'price', width: 12 },
      { header: '应收（元）', key: 'charge', width: 12 },
      { header: '已缴（元）', key: 'paid', width: 12 },
      { header: '优惠（元）', key: 'discount', width: 10 },
      { header: '滞纳金（元）', key: 'lateFee', width: 10 },
      { header: '欠费（元）', key: 'owed', width: 12 },
      { header: '缴费方式', key: 'via', width: 10 },
      { header: '缴费时间', key: 'paidAt', width: 20 },
    ];
    return this.streamSheet('账单', cols, async (add) => {
      for (let after = 0; ; ) {
        const page = await this.d.billing.exportPage(seasonId, after, 2000);
        if (!page.length) break;
        for (const { bill: b, accountNo, season } of page) {
          add({
            accountNo,
            season,
            kind: BILL_KIND_LABEL[b.kind],
            status: BILL_STATUS_LABEL[b.status],
            area: (b.heatedArea / 100).toFixed(2),
            price: fenToYuanString(b.unitPriceFen),
            charge: fenToYuanString(b.chargeFen),
            paid: fenToYuanString(b.paidFen),
            discount: fenToYuanString(b.discountFen),
            lateFee: fenToYuanString(b.lateFeeFen),
            owed: b.status === 'unpaid' ? fenToYuanString(b.chargeFen - b.paidFen) : '0.00',
            via: b.paidVia === 'wechat' ? '微信支付' : b.paidVia === 'counter' ? '营业厅' : '',
            paidAt: b.paidAt ? formatChinaTime(b.paidAt, true) : '',
          });
        }
        after = page[page.length - 1]!.bill.id;
      }
    });
  }

  /** Payments credited between two China dates (inclusive). */
  async exportPayments(fromDate: string, toDate: string): Promise<Readable> {
    const from = new Date(`${fromDate}T00:00:00+08:00`);
    const to = new Date(new Date(`${toDate}T00:00:00+08:00`).getTime() + 86_400_000);
    const cols = [
      { header: '商户订单号', key: 'outTradeNo', width: 26 },
      { header: '微信支付单号', key: 'transactionId', width: 32 },
      { header: '户号', key: 'accountNo', width: 14 },
      { header: '账单编号', key: 'billId', width: 10 },
      { header: '金额（元）', key: 'amount', width: 12 },
      { header: '优惠（元）', key: 'discount', width: 10 },
      { header: '滞纳金（元）', key: 'lateFee', width: 10 },
      { header: '已退款（元）', key: 'refunded', width: 12 },
      { header: '重复支付', key: 'duplicate', width: 8 },
      { header: '支付时间', key: 'paidAt', width: 20 },
    ];
    return this.streamSheet('缴费', cols, async (add) => {
      for (let after = 0; ; ) {
        const page = await this.d.payments.paidBetween(from, to, after, 2000);
        if (!page.length) break;
        const accounts = await this.d.accounts.accountNosByIds(page.map((o) => o.accountId));
        for (const o of page) {
          add({
            outTradeNo: o.outTradeNo,
            transactionId: o.transactionId ?? '',
            accountNo: accounts.get(o.accountId) ?? '',
            billId: String(o.billId),
            amount: fenToYuanString(o.amountFen),
            discount: fenToYuanString(o.discountFen),
            lateFee: fenToYuanString(o.lateFeeFen),
            refunded: fenToYuanString(o.refundedFen),
            duplicate: o.duplicate ? '是' : '',
            paidAt: o.paidAt ? formatChinaTime(o.paidAt, true) : '',
          });
        }
        after = page[page.length - 1]!.id;
      }
    });
  }

  /** An XLSX written row by row to a stream (exceljs streaming writer): 100k rows without a workbook in memory. */
  private async streamSheet(
    name: string,
    columns: { header: string; key: string; width: number }[],
    fill: (add: (row: Record<string, string>) => void) => Promise<void>,
  ): Promise<Readable> {
    const ExcelJS = (await import('exceljs')).default;
    const out = new PassThrough();
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
    const ws = wb.addWorksheet(name);
    ws.columns = columns;
    ws.getRow(1).font = { bold: true };
    void (async () => {
      try {
        await fill((row) => ws.addRow(row).commit());
        ws.commit();
        await wb.commit();
      } catch (err) {
        this.d.log.error({ error: errorSummary(err) }, 'export failed');
        out.destroy(err as Error);
      }
    })();
    return out;
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
      audit(em, this.d.clock(), actor, 'staff.unlock', { type: 'staff', id: staffId }, { loginLockedUntil: before.loginLockedUntil }, { loginLockedUntil: null }),
    );
    return this.staffById(staffId);
  }

  async createStaff(actor: AdminActor, input: { username: string; name: string; password: string; roles: StaffRole[]; areaIds: number[] }): Promise<StaffView> {
    await this.assertAreas(input.areaIds);
    const id = await withTx(this.d.ds, async (em) => {
      const staff = await this.d.identity.createStaff(input, em);
      await audit(em, this.d.clock(), actor, 'staff.create', { type: 'staff', id: staff.id }, null, { username: input.username, name: input.name, roles: input.roles, areaIds: input.areaIds });
      return staff.id;
    });
    return this.staffById(id);
  }

  async updateStaff(actor: AdminActor, staffId: number, patch: { name?: string; roles?: StaffRole[]; areaIds?: number[] }): Promise<StaffView> {
    if (patch.areaIds) await this.assertAreas(patch.areaIds);
    const before = await this.staffById(staffId);
    // like disabling oneself: an admin who drops their own admin role locks themselves out
    if (actor.staffId === staffId && patch.roles && !patch.roles.includes('admin') && before.roles.includes('admin')) throw new AppError('CANNOT_DROP_OWN_ADMIN');
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
    const out: StaffDashboard = { date, payments: null, repairs: null, messages: null, serviceChanges: null, reconciliation: null, paymentsByDay: null, repairsByDay: null };
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

function staffView(s: { id: number; username: string; name: string; roles: StaffRole[]; areaIds: number[]; disabled: boolean; openid: string | null; createdAt: Date }): Omit<StaffView, 'loginLockedUntil'> {
  return { id: s.id, username: s.username, name: s.name, roles: s.roles, areaIds: s.areaIds, disabled: s.disabled, wechatBound: !!s.openid, createdAt: s.createdAt.toISOString() };
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

