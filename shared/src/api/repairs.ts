import { z } from 'zod';
import { fen, idParam, intId, isoDate, isoInstant, seasonYear } from '../inputs';
import { REPAIR_CATEGORIES, REPAIR_SIDES, REPAIR_STATES, type RepairCategory, type RepairSide, type RepairState } from '../repairs';
import { PageQuery } from './common';

/** The key of a file uploaded to this platform (POST /uploads, multipart, see api/uploads.ts). */
export const UploadKey = z.string().regex(/^up_[a-f0-9]{32}$/, '照片标识无效');

/**
 * A photo: the id of an upload from POST /uploads. Never an outside URL: a resident's link would
 * put third-party pixels (tracking, unchecked content) on neighbours' and staff screens.
 */
export const PhotoRef = z.string().regex(/^up_[a-f0-9]{32}$/, '照片无效，请重新上传');

const Phone = z
  .string()
  .trim()
  .regex(/^1[3-9]\d{9}$/, '请输入11位手机号');

export const CreateRepairRequest = z
  .object({
    accountId: intId(),
    category: z.enum(REPAIR_CATEGORIES, '请选择报修类型'),
    emergency: z.boolean().default(false),
    description: z.string().trim().min(4, '请描述一下问题（至少4个字）').max(500, '描述不超过500字'),
    photos: z.array(PhotoRef).max(9, '最多上传9张照片').default([]),
    slotStart: isoInstant('请选择正确的预约时段').optional(),
    slotEnd: isoInstant('请选择正确的预约时段').optional(),
    /** blank = the account's phone */
    contactPhone: Phone.optional(),
    /** the resident's own reading for 室温不达标, °C */
    residentReadingC: z.number().min(-10, '温度读数有误').max(40, '温度读数有误').optional(),
  })
  .refine((v) => !v?.slotStart === !v?.slotEnd, { path: ['slotEnd'], message: '请选择完整的预约时段', when: () => true });
export type CreateRepairRequest = z.input<typeof CreateRepairRequest>;

export const RateRepairRequest = z.object({
  rating: z.number().int().min(1, '请评分').max(5, '评分为1-5星'),
  comment: z.string().trim().max(200, '评价不超过200字').optional(),
  /** default: 3 stars or more is satisfied */
  satisfied: z.boolean().optional(),
});
export type RateRepairRequest = z.input<typeof RateRepairRequest>;

export const ConsentRequest = z.object({ accept: z.boolean() });

/** The resident moves the booked visit (Zibo 001: once, at least 1 h before it). */
export const RescheduleRequest = z.object({
  slotStart: isoInstant('请选择正确的预约时段'),
  slotEnd: isoInstant('请选择正确的预约时段'),
});
export type RescheduleRequest = z.input<typeof RescheduleRequest>;

export const AssignRequest = z.object({ staffId: intId(), reason: z.string().trim().max(200).optional() });

export const PriceItem = z.object({
  /** an item of the company's price list (settings: repairs.priceList; the server checks it is listed) */
  code: z.string('请选择收费项目').regex(/^[a-z][a-z0-9_]{0,31}$/, '请选择收费项目'),
  qty: z.number().int().min(1).max(20).default(1),
});

export const SideRequest = z
  .object({
    side: z.enum(REPAIR_SIDES),
    items: z.array(PriceItem, '请选择收费项目').max(20).default([]),
    note: z.string().trim().max(200).optional(),
  })
  // runs even when other fields are wrong (every problem at once), so it must not trust their shapes: items may be null
  .refine((v) => v?.side !== 'resident' || (Array.isArray(v.items) && v.items.length > 0), {
    path: ['items'],
    message: '有偿维修请选择收费项目',
    when: () => true,
  });
export type SideRequest = z.input<typeof SideRequest>;

export const ResolveRequest = z.object({
  notes: z.string().trim().min(2, '请填写处理情况').max(500),
  photos: z.array(PhotoRef).max(9).default([]),
  materials: z
    .array(z.object({ name: z.string().trim().min(1).max(40), qty: z.number().min(0).max(1000) }))
    .max(20)
    .default([]),
});
export type ResolveRequest = z.input<typeof ResolveRequest>;

export const RepairReportRequest = z.object({ report: z.string().trim().min(2, '请填写处置结果').max(500, '不超过500字') });

/** unreachable (未接通): tried again later, closed only after the company's number of attempts */
export const CallbackDoneRequest = z.object({
  outcome: z.enum(['satisfied', 'unsatisfied', 'unreachable'], '请选择回访结果'),
  notes: z.string().trim().max(300).optional(),
});

export const StaffRepairQuery = PageQuery.extend({
  status: z.enum(REPAIR_STATES).optional(),
  mine: z.enum(['1', '0']).optional(),
  pool: z.enum(['1', '0']).optional(),
  overdue: z.enum(['1', '0']).optional(),
  /** the earliest deadline it owes is less than REPAIR_DUE_SOON_MINUTES away (and none has passed): "1小时内到期" */
  dueSoon: z.enum(['1', '0']).optional(),
});

export interface RepairTimelineItem {
  state: RepairState;
  label: string;
  at: string;
  reason: string | null;
}

/** One promise made to the resident, as their page shows it. */
export interface RepairDeadlineView {
  kind: 'dispatch' | 'contact' | 'on_site' | 'done';
  /** 派单 / 联系您 / 上门 / 完工 */
  label: string;
  dueAt: string;
  /** when it was kept (or null) */
  metAt: string | null;
  /** met: kept in time; late: kept after the deadline; pending: not yet due; overdue: passed and not kept */
  state: 'met' | 'late' | 'pending' | 'overdue';
}

export interface RepairView {
  id: number;
  no: string;
  accountId: number;
  address: string;
  category: RepairCategory;
  categoryLabel: string;
  emergency: boolean;
  description: string;
  photos: string[];
  slotStart: string | null;
  slotEnd: string | null;
  contactPhoneMasked: string;
  residentReadingC: number | null;
  status: RepairState;
  statusLabel: string;
  assigneeName: string | null;
  side: RepairSide | null;
  priceItems: { code: string; name: string; qty: number; priceFen: number }[] | null;
  priceFen: number | null;
  consentAt: string | null;
  dispatchDueAt: string | null;
  contactDueAt: string;
  onSiteDueAt: string | null;
  doneDueAt: string;
  /** every deadline promised to the resident, in order (China time on the page) */
  deadlines: RepairDeadlineView[];
  /** a deadline the ticket still owes has passed (shared rule, overdue.ts) */
  overdue: boolean;
  /** "预计 xx:xx 前联系您" while nobody has called yet and the time has not passed */
  promise: string | null;
  /** 催单: the resident may urge an overdue open ticket, once per the company's interval */
  urge: { allowed: boolean; nextAt: string | null; count: number; lastAt: string | null };
  /** 改约: how many appointment changes are left and until when the current slot may be moved */
  reschedule: { allowed: boolean; left: number; noticeMinutes: number };
  resolution: string | null;
  resolutionPhotos: string[];
  rating: number | null;
  ratingComment: string | null;
  /** a rating below this many stars counts as unsatisfied and reopens the ticket (company setting repairs.unsatisfiedBelowStars) */
  unsatisfiedBelowStars: number;
  createdAt: string;
  timeline?: RepairTimelineItem[];
}

export interface StaffRepairView extends RepairView {
  areaId: number;
  assigneeId: number | null;
  contactPhone: string;
  escalationLevel: number;
  /** minutes to the next open deadline, negative when overdue */
  minutesLeft: number | null;
  /** emergencies: the result report is due by (after finishing) / was made at */
  reportDueAt: string | null;
  reportedAt: string | null;
}

// ---- temperature measurements ------------------------------------------------------------

export const MeasurementBookRequest = z.object({
  accountId: intId(),
  scheduledAt: isoInstant('请选择正确的测温时间'),
  threeParty: z.boolean().default(false),
  repairId: intId().optional(),
});
export type MeasurementBookRequest = z.input<typeof MeasurementBookRequest>;

/** 改约: a new time for a booked visit (in the windows, like a booking). */
export const MeasurementRescheduleRequest = z.object({ scheduledAt: isoInstant('请选择正确的测温时间') });
export type MeasurementRescheduleRequest = z.input<typeof MeasurementRescheduleRequest>;

export const MeasurementReadingInput = z.object({
  room: z.string().trim().min(1, '请填写房间').max(20),
  readingC: z.number().min(-10).max(40),
  photo: PhotoRef.optional(),
  checks: z.object({
    doorsWindowsClosed30Min: z.boolean(),
    midRoom: z.boolean(),
    height1_4m: z.boolean(),
    stable5Min: z.boolean(),
  }),
});

const PartyName = (who: string) => z.string(`请填写${who}签字人姓名`).trim().min(1, `请填写${who}签字人姓名`).max(20, '姓名不超过20个字');
/** The readings of a visit. The time of measuring is the server's (Changchun 000), never typed. */
export const MeasurementRecordRequest = z.object({
  readings: z.array(MeasurementReadingInput).min(1, '至少记录一个房间').max(12),
  /** three-party: who signed, each named */
  parties: z.object({ company: PartyName('供热公司'), resident: PartyName('住户'), community: PartyName('社区') }).optional(),
});
export type MeasurementRecordRequest = z.input<typeof MeasurementRecordRequest>;

/** The ruling states why; the refund follows the company's rule (shared/src/measurement.ts rulingRefund). */
export const RulingRequest = z.object({
  note: z.string('请填写裁定意见').trim().min(2, '裁定意见至少2个字').max(200, '裁定意见不超过200字'),
});
export const RulingRefundRequest = z.object({ orderId: intId() });

// ---- watch list and reports --------------------------------------------------------------

export const WatchListQuery = z.object({
  /** the season's start year, e.g. 2025 for 2025-2026; default: the last finished season */
  season: seasonYear().optional(),
});

export interface WatchHousehold {
  accountId: number;
  accountNo: string;
  areaId: number;
  areaName: string;
  address: string;
  /** e.g. "测温 16.5℃ 低于18℃", "室温不达标报修 3 次" */
  reasons: string[];
  lowestReadingC: number | null;
  lowTempTickets: number;
}
export interface WatchBuilding {
  buildingId: number;
  areaId: number;
  areaName: string;
  name: string;
  address: string;
  /** households of the building that complained in the season */
  complaints: number;
  /** their tickets */
  tickets: number;
  byCategory: Partial<Record<RepairCategory, number>>;
}
export interface WatchListView {
  season: { label: string; start: string; end: string };
  households: WatchHousehold[];
  buildings: WatchBuilding[];
  thresholds: { buildingComplaints: number; repeatedLowTemp: number; minTemperatureC: number };
}

const ChinaDay = isoDate();
export const RepairReportQuery = z
  .object({
    /** China dates, inclusive; default the last 30 days */
    from: ChinaDay.optional(),
    to: ChinaDay.optional(),
    areaId: idParam().optional(),
  })
  .refine((v) => typeof v?.from !== 'string' || typeof v?.to !== 'string' || v.from <= v.to, {
    path: ['to'],
    message: '结束日期不能早于开始日期',
    when: () => true,
  });

/** SLA figures of a group of tickets (an area, a category, emergency/routine, or all). */
export interface RepairSlaRow {
  key: string;
  label: string;
  tickets: number;
  /** tickets whose clocks are all decided (met or missed) */
  evaluated: number;
  compliant: number;
  /** compliant / evaluated, 0..1 (null when nothing is decided yet) */
  complianceRate: number | null;
  contactRate: number | null;
  onSiteRate: number | null;
  doneRate: number | null;
  /** minutes from booking */
  medianContactMinutes: number | null;
  medianOnSiteMinutes: number | null;
  medianDoneMinutes: number | null;
  rated: number;
  avgRating: number | null;
  /** share of ratings ≥ 3 stars */
  satisfiedRate: number | null;
}
export interface RepairReportView {
  from: string;
  to: string;
  total: RepairSlaRow;
  byArea: RepairSlaRow[];
  byCategory: RepairSlaRow[];
  byUrgency: RepairSlaRow[];
  ratings: { stars: number; count: number }[];
}
