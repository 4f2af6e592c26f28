/**
 * Company administration: the household import/export format, staff and areas, company settings,
 * the audit log and the staff dashboard. Column headers and messages are what admins see (Chinese).
 */
import { z } from 'zod';
import { int32, intId, isoDate, seasonCode } from './inputs';
import { COMPANY_SETTING_LABEL, CompanyRules } from './company';
import { STAFF_ROLES } from './roles';

// ---- household import / export -------------------------------------------------------------------

/** The fixed columns of the household sheet, in order (import template, accounts export). */
export const HOUSEHOLD_COLUMNS = [
  { key: 'accountNo', header: '户号', width: 14, example: '010101120101' },
  { key: 'areaCode', header: '片区编码', width: 10, example: 'A01' },
  { key: 'buildingName', header: '楼栋', width: 10, example: '1号楼' },
  { key: 'buildingAddress', header: '楼栋地址', width: 36, example: '长春市朝阳区湖西路166号锦绣家园' },
  { key: 'unitNo', header: '单元', width: 6, example: '1' },
  { key: 'roomNo', header: '房号', width: 8, example: '1201' },
  { key: 'ownerName', header: '户主姓名', width: 10, example: '王建国' },
  { key: 'contactPhone', header: '联系电话', width: 14, example: '13812345678' },
  { key: 'heatedArea', header: '供热面积（㎡）', width: 12, example: '89.50' },
  { key: 'use', header: '用途', width: 8, example: '居民' },
  { key: 'status', header: '状态', width: 10, example: '正常供热' },
] as const;
export type HouseholdColumnKey = (typeof HOUSEHOLD_COLUMNS)[number]['key'];

/** Arrears columns: one per season, e.g. "欠费2025-2026（元）"; any number of them. */
export const ARREARS_HEADER_RE = /^欠费\s*(\d{4}-\d{4})\s*(?:[（(]元[)）])?$/;
export const arrearsHeader = (season: string) => `欠费${season}（元）`;

/** Headers also accepted on import (older billing-system exports). */
export const HOUSEHOLD_HEADER_ALIASES: Record<string, HouseholdColumnKey> = {
  户号: 'accountNo',
  用户编号: 'accountNo',
  片区编码: 'areaCode',
  片区代码: 'areaCode',
  楼栋: 'buildingName',
  楼号: 'buildingName',
  楼栋地址: 'buildingAddress',
  小区地址: 'buildingAddress',
  单元: 'unitNo',
  单元号: 'unitNo',
  房号: 'roomNo',
  户室号: 'roomNo',
  户主姓名: 'ownerName',
  户主: 'ownerName',
  联系电话: 'contactPhone',
  手机号: 'contactPhone',
  '供热面积（㎡）': 'heatedArea',
  '供热面积(㎡)': 'heatedArea',
  '供热面积（m²）': 'heatedArea',
  '供热面积(m2)': 'heatedArea',
  供热面积: 'heatedArea',
  用途: 'use',
  用热性质: 'use',
  状态: 'status',
  供热状态: 'status',
};

export const IMPORT_STATES = ['queued', 'reading', 'validating', 'writing', 'done', 'rejected', 'failed'] as const;
export type ImportState = (typeof IMPORT_STATES)[number];
export const IMPORT_STATE_LABEL: Record<ImportState, string> = {
  queued: '排队中',
  reading: '读取文件',
  validating: '校验数据',
  writing: '写入数据',
  done: '导入完成',
  rejected: '校验未通过，未写入任何数据',
  failed: '导入失败，未写入任何数据',
};

/** One problem of one row: `row` is the row number the admin sees in Excel (header = 1). */
export interface ImportIssueView {
  row: number;
  /** the column header, or '' for the whole row */
  column: string;
  value: string;
  message: string;
}

export interface ImportJobView {
  id: number;
  fileName: string;
  format: 'xlsx' | 'csv';
  dryRun: boolean;
  state: ImportState;
  stateLabel: string;
  /** rows read so far (reading/validating) or written so far (writing) */
  processed: number;
  /** data rows in the file, known once it has been read */
  total: number | null;
  percent: number;
  summary: ImportSummary | null;
  issueCount: number;
  issues: ImportIssueView[];
  createdAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface ImportSummary {
  rows: number;
  buildingsCreated: number;
  buildingsUpdated: number;
  unitsCreated: number;
  accountsCreated: number;
  accountsUpdated: number;
  arrearsBills: number;
  seconds: number;
  /**
   * After a real import: the season being billed now and how many households still have no bill
   * for it (the imported ones among them); the import page offers to issue them (出账). Absent on
   * dry runs and when no season exists.
   */
  seasonBills?: { season: string; label: string; unbilled: number } | null;
}

export const ImportQuery = z.object({
  fileName: z.string().max(200).optional(),
  dryRun: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .transform((v) => v === '1' || v === 'true'),
});

export const ExportBillsQuery = z.object({ season: seasonCode().optional() });
const IsoDate = isoDate();
export const ExportPaymentsQuery = z
  .object({ from: IsoDate, to: IsoDate })
  .refine((q) => q.from <= q.to, { path: ['to'], message: '结束日期不能早于开始日期' });

// ---- staff and areas ------------------------------------------------------------------------------

const Roles = z.array(z.enum(STAFF_ROLES)).min(1, '请至少选择一个角色').max(STAFF_ROLES.length);
const AreaIds = z.array(intId()).max(200);

export const CreateStaffRequest = z.object({
  username: z.string().regex(/^[a-zA-Z0-9_.-]{3,32}$/, '用户名为3-32位字母、数字或 _ . -'),
  name: z.string().trim().min(1, '请填写姓名').max(32),
  password: z.string().min(8, '初始密码至少8位').max(64),
  roles: Roles,
  areaIds: AreaIds.default([]),
});
export type CreateStaffRequest = z.input<typeof CreateStaffRequest>;

export const UpdateStaffRequest = z.object({
  name: z.string().trim().min(1, '请填写姓名').max(32).optional(),
  roles: Roles.optional(),
  areaIds: AreaIds.optional(),
});

export interface StaffView {
  id: number;
  username: string;
  name: string;
  roles: string[];
  areaIds: number[];
  disabled: boolean;
  wechatBound: boolean;
  createdAt: string;
  /** password login locked after too many wrong passwords, until then (an admin can unlock) */
  loginLockedUntil: string | null;
}

export const AreaRequest = z.object({
  code: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, '片区编码为1-16位字母或数字'),
  name: z.string().trim().min(1, '请填写片区名称').max(50),
});
export const RenameAreaRequest = z.object({ name: z.string().trim().min(1, '请填写片区名称').max(50) });

export interface AreaView {
  id: number;
  code: string;
  name: string;
}

// ---- company settings -----------------------------------------------------------------------------

/** What the settings page edits: the company's name and hotline, and its rules (every default filled). */
export const CompanySettings = z.object({
  name: z.string().trim().min(1, '请填写公司名称').max(100),
  hotline: z
    .string()
    .trim()
    .regex(/^[0-9+\-() ]{5,32}$/, '服务热线格式不正确'),
  rules: CompanyRules,
});
export type CompanySettings = z.output<typeof CompanySettings>;
export type CompanySettingsInput = z.input<typeof CompanySettings>;

// ---- audit log ------------------------------------------------------------------------------------

export const AUDIT_ACTION_LABEL: Record<string, string> = {
  'import.households': '导入住户数据',
  'staff.create': '新建员工',
  'staff.update': '修改员工',
  'staff.disable': '停用员工',
  'staff.invite': '生成微信绑定邀请码',
  'staff.unlock': '解除登录锁定',
  'area.create': '新建片区',
  'area.rename': '修改片区名称',
  'settings.update': '修改公司设置',
};

/** What an audit entry's target is, in Chinese. */
export const AUDIT_TARGET_LABEL: Record<string, string> = { staff: '员工', area: '片区', company: '公司', import_job: '导入任务' };

/** Fields of the other audited actions (staff, areas, imports), by path. */
const AUDIT_FIELD_LABEL: Record<string, string> = {
  username: '用户名',
  name: '姓名',
  roles: '角色',
  areaIds: '负责片区',
  disabled: '已停用',
  loginLockedUntil: '登录锁定至',
  expiresAt: '有效期至',
  code: '片区编码',
  fileName: '文件名',
  rows: '行数',
  buildingsCreated: '新增楼栋',
  buildingsUpdated: '更新楼栋',
  unitsCreated: '新增单元',
  accountsCreated: '新增户',
  accountsUpdated: '更新户',
  arrearsBills: '欠费账单',
  seconds: '用时（秒）',
};

/** The Chinese name of a field path in an audit entry's before/after (the path itself when unknown). */
export function auditFieldLabel(action: string, path: string): string {
  if (action === 'settings.update') return COMPANY_SETTING_LABEL[path] ?? path;
  if (action.startsWith('area.') && path === 'name') return '片区名称';
  return AUDIT_FIELD_LABEL[path] ?? path;
}

export interface AuditEntryView {
  id: number;
  at: string;
  actorId: number | null;
  actorName: string;
  action: string;
  actionLabel: string;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
}

export const AuditQuery = z.object({
  action: z.string().max(64).optional(),
  page: int32({ min: 1, max: 100_000, coerce: true }).default(1),
  pageSize: int32({ min: 1, max: 100, coerce: true }).default(20),
});

// ---- staff dashboard ------------------------------------------------------------------------------

export interface StaffDashboard {
  /** China calendar date of the figures */
  date: string;
  payments: { count: number; sumFen: number } | null;
  repairs: { open: number; onTime: number; dueSoon: number; overdue: number } | null;
  messages: { unanswered: number } | null;
  serviceChanges: { pendingReview: number; valveOrdersOpen: number } | null;
  reconciliation: { daysWithDifferences: number } | null;
  /** the last 7 China dates (oldest first, today last): payments credited in the caller's areas */
  paymentsByDay: { date: string; count: number; sumFen: number }[] | null;
  /** the last 7 China dates (oldest first): repair tickets opened and closed in the caller's areas */
  repairsByDay: { date: string; opened: number; closed: number }[] | null;
}
