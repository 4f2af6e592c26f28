import { z } from 'zod';
import { intId, seasonYear } from '../inputs';
import {
  COMPLAINT_SOURCES,
  COMPLAINT_STATES,
  EXTERNAL_NO_REQUIRED,
  WATCH_TASK_KINDS,
  type ComplaintSource,
  type ComplaintState,
  type WatchTaskKind,
} from '../complaints';
import { PageQuery } from './common';

const Content = z.string('请填写投诉内容').trim().min(4, '请写明投诉内容（至少4个字）').max(500, '投诉内容不超过500字');
/** a mobile or a landline as the hotline gave it: digits, optionally with an area-code dash */
const AnyPhone = z
  .string()
  .trim()
  .regex(/^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/, '请输入手机号或带区号的固定电话');

/** A resident files a complaint about one of their bound households. */
export const FileComplaintRequest = z.object({
  accountId: intId(),
  content: Content,
  contactPhone: AnyPhone.optional(),
});
export type FileComplaintRequest = z.input<typeof FileComplaintRequest>;

/** Staff register a complaint for a household (a hotline or phone complaint). */
export const StaffFileComplaintRequest = z
  .object({
    accountId: intId(),
    source: z.enum(COMPLAINT_SOURCES, '请选择投诉来源'),
    externalNo: z.string().trim().max(40, '工单号不超过40个字符').optional(),
    content: Content,
    contactPhone: AnyPhone.optional(),
  })
  .superRefine((v, ctx) => {
    if (EXTERNAL_NO_REQUIRED.includes(v.source) && !v.externalNo)
      ctx.addIssue({ code: 'custom', path: ['externalNo'], message: '热线转来的投诉请填写热线工单号' });
    if (v.externalNo && !/^[A-Za-z0-9-]{4,40}$/.test(v.externalNo))
      ctx.addIssue({ code: 'custom', path: ['externalNo'], message: '工单号只能包含字母、数字和短横线（4-40位）' });
  });
export type StaffFileComplaintRequest = z.input<typeof StaffFileComplaintRequest>;

export const StaffComplaintQuery = PageQuery.extend({
  status: z.enum(COMPLAINT_STATES).optional(),
  overdue: z.enum(['1', '0']).optional(),
  escalated: z.enum(['1', '0']).optional(),
});

/** The resident agreed (by phone, recorded by staff) to a longer close deadline. */
export const ComplaintExtendRequest = z.object({
  note: z.string('请记录住户同意的情况').trim().min(4, '请记录住户同意的情况（至少4个字）').max(200, '不超过200字'),
});
export const ComplaintResolveRequest = z.object({
  resolution: z.string('请填写处理结果').trim().min(4, '请填写处理结果（至少4个字）').max(500, '处理结果不超过500字'),
});
export const ComplaintCallbackRequest = z.object({
  outcome: z.enum(['satisfied', 'unsatisfied', 'unreachable'], '请选择回访结果'),
  notes: z.string().trim().max(300, '回访记录不超过300字').optional(),
});

export interface ComplaintTimelineEntry {
  state: ComplaintState;
  label: string;
  at: string;
  reason: string | null;
}

/** What the resident sees: status, the deadline (shown in China time), the answer. */
export interface ComplaintView {
  id: number;
  no: string;
  accountId: number;
  address: string;
  source: ComplaintSource;
  sourceLabel: string;
  externalNo: string | null;
  content: string;
  status: ComplaintState;
  statusLabel: string;
  /** the close deadline (ISO); 72 h instead of 24 h when the resident agreed */
  closeDueAt: string;
  extended: boolean;
  resolution: string | null;
  resolvedAt: string | null;
  callbackDueAt: string | null;
  closedAt: string | null;
  createdAt: string;
  timeline?: ComplaintTimelineEntry[];
}

export interface StaffComplaintView extends ComplaintView {
  areaId: number;
  accountNo: string;
  contactPhone: string;
  handlerName: string | null;
  escalationLevel: number;
  agreementNote: string | null;
  callbackOutcome: string | null;
  overdue: boolean;
  /** minutes to the deadline owed now (negative: overdue), null when none */
  minutesLeft: number | null;
}

// ---- watch tasks and the hazard ledger ----

export const WatchTaskQuery = PageQuery.extend({ status: z.enum(['open', 'done']).default('open'), kind: z.enum(WATCH_TASK_KINDS).optional() });
export const WatchTaskDoneRequest = z.object({
  readingC: z.number('请填写室温读数').min(-10, '读数不低于-10℃').max(40, '读数不高于40℃').optional(),
  notes: z.string().trim().max(300, '记录不超过300字').optional(),
});

export interface WatchTaskView {
  id: number;
  kind: WatchTaskKind;
  kindLabel: string;
  accountId: number;
  accountNo: string;
  areaId: number;
  address: string;
  reason: string;
  dueAt: string;
  status: 'open' | 'done';
  doneAt: string | null;
  readingC: number | null;
  notes: string | null;
  repairTicketId: number | null;
  overdue: boolean;
}

export const HazardLedgerQuery = z.object({ season: seasonYear().optional() });

export interface HazardHousehold {
  accountId: number;
  accountNo: string;
  address: string;
  repairTickets: number;
  complaints: number;
}

export interface HazardBuilding {
  buildingId: number;
  areaId: number;
  areaName: string;
  name: string;
  address: string;
  /** complaining households (a repair ticket or a complaint in the season) */
  households: HazardHousehold[];
}

export interface HazardLedgerView {
  season: { label: string; start: string; end: string };
  threshold: number;
  buildings: HazardBuilding[];
}
