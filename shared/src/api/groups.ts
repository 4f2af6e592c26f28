/** Butler groups (管家群): one per building; messages, the agents' inbox, announcements. */
import { z } from 'zod';
import { idParam, int32, isoInstant } from '../inputs';
import { PageQuery } from './common';
import { REPAIR_CATEGORIES } from '../repairs';

export const CANNED_CATEGORIES = ['room_temp', 'payment', 'invoice', 'stop_resume', 'repair', 'other'] as const;
export type CannedCategory = (typeof CANNED_CATEGORIES)[number];
export const CANNED_CATEGORY_LABEL: Record<CannedCategory, string> = {
  room_temp: '室温',
  payment: '缴费',
  invoice: '发票',
  stop_resume: '报停复供',
  repair: '报修',
  other: '其他',
};

export const ANNOUNCEMENT_TYPES = ['outage', 'water_fill', 'payment', 'utility', 'notice'] as const;
export type AnnouncementType = (typeof ANNOUNCEMENT_TYPES)[number];
export const ANNOUNCEMENT_TYPE_LABEL: Record<AnnouncementType, string> = {
  outage: '停热抢修',
  water_fill: '注水',
  payment: '催费',
  utility: '停水停电',
  notice: '通知',
};
/** Types that interrupt service: they must state the expected restoration time. */
export const ANNOUNCEMENT_NEEDS_RESTORE: readonly AnnouncementType[] = ['outage', 'utility'];

export const MESSAGE_KINDS = ['text', 'image', 'announcement', 'link'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** In-app pages a staff reply may link to (stop/resume help, repairs…). */
export const HELP_LINKS = {
  stop_resume: { title: '报停 / 复供申请', path: '/pages/services/index' },
  repair: { title: '在线报修', path: '/pages/services/index' },
  bills: { title: '查询缴费', path: '/pages/bills/index' },
  my_repairs: { title: '我的报修（查看进度）', path: '/pages/repairs/index' },
} as const;
export type HelpLink = keyof typeof HELP_LINKS;

export const PostMessage = z
  .object({
    text: z.string().trim().max(1000, '消息最多1000字').optional(),
    /** only a photo uploaded here: a third-party URL would load someone else's pixels on staff screens */
    photo: z
      .string()
      .regex(/^up_[a-f0-9]{32}$/, '只能发送在本平台上传的图片')
      .optional(),
    /** a staff reply quoting a resident's message */
    quoteId: idParam().optional(),
    /** staff only: attach an in-app help link */
    link: z.enum(Object.keys(HELP_LINKS) as [HelpLink, ...HelpLink[]]).optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.text && !v.link && !v.photo) ctx.addIssue({ code: 'custom', path: ['text'], message: '请输入消息内容' });
  });
export type PostMessage = z.input<typeof PostMessage>;

export const MessagesQuery = z.object({
  /** newest-first paging: messages older than this id */
  before: idParam().optional(),
  /** polling fallback: messages newer than this id, oldest first */
  after: int32({ min: 0, coerce: true }).optional(),
  limit: int32({ min: 1, max: 100, coerce: true }).default(30),
});

export const ReadBody = z.object({ upTo: int32({ min: 0, coerce: true, message: '消息编号无效' }) });

export const GroupMessageView = z.object({
  id: z.number(),
  groupId: z.number(),
  kind: z.enum(MESSAGE_KINDS),
  sender: z.object({
    kind: z.enum(['resident', 'staff']),
    label: z.string(),
    role: z.string().nullable(),
    mine: z.boolean(),
    /** staff views only: the resident, for notes and muting */
    residentId: z.number().optional(),
  }),
  text: z.string().nullable(),
  /** the photo's URL (/api/v1/uploads/up_… for uploads) */
  imageUrl: z.string().nullable(),
  link: z.object({ title: z.string(), path: z.string() }).nullable(),
  quote: z.object({ id: z.number(), label: z.string(), text: z.string().nullable() }).nullable(),
  announcement: z
    .object({ id: z.number(), type: z.enum(ANNOUNCEMENT_TYPES), typeLabel: z.string(), title: z.string(), expectedRestoreAt: z.string().nullable() })
    .nullable(),
  createdAt: z.string(),
  /** the sender's and staff views: pending = photo under content review (审核中, others don't see it yet); flagged = marked for staff */
  moderation: z.enum(['pending', 'flagged']).nullable().optional(),
  /** staff views only */
  hidden: z.boolean().optional(),
  hideReason: z.string().nullable().optional(),
  answeredAt: z.string().nullable().optional(),
  claimedBy: z.object({ staffId: z.number(), name: z.string() }).nullable().optional(),
  reports: z.number().optional(),
  /** staff views only: the repair ticket this resident message was turned into */
  repairTicketId: z.number().nullable().optional(),
});
export type GroupMessageView = z.infer<typeof GroupMessageView>;

export interface GroupSummary {
  id: number;
  buildingId: number;
  name: string;
  areaId: number;
  memberCount: number;
  unread: number;
  lastMessage: GroupMessageView | null;
  pinned: GroupMessageView[];
  mutedUntil: string | null;
}

/** A group as staff see it in their list: join rate and what waits for an answer. */
export interface StaffGroupSummary {
  id: number;
  buildingId: number;
  name: string;
  areaId: number;
  households: number;
  joined: number;
  /** joined / households, 0..1 */
  joinRate: number;
  members: number;
  staffMembers: { staffId: number; name: string; role: string }[];
  pending: number;
  lastMessage: GroupMessageView | null;
}

/** Realtime frames on the WebSocket (and what polling returns as messages). */
export type RealtimeFrame =
  | { type: 'ready'; topics: string[] }
  | { type: 'message'; topic: string; message: GroupMessageView }
  | { type: 'hidden'; topic: string; groupId: number; messageId: number }
  | { type: 'inbox'; topic: string; groupId: number; messageId: number; change: 'new' | 'claimed' | 'answered' | 'hidden'; staffId?: number }
  | { type: 'joined' | 'left'; topic: string; groupId: number };

export const INBOX_VIEWS = ['pending', 'mine', 'all'] as const;
export const InboxQuery = PageQuery.extend({
  view: z.enum(INBOX_VIEWS).default('pending'),
  groupId: idParam().optional(),
});

export interface InboxItem {
  message: GroupMessageView;
  groupName: string;
  areaId: number;
  /** seconds since the resident asked (pending only) */
  waitingSeconds: number | null;
  claimedBy: { staffId: number; name: string } | null;
}

/**
 * What an agent sees beside a resident's question: the resident's accounts in the question's
 * building (户号, address, owner, relation), each account's bills (due and paid) and the resident's
 * open repair tickets on them. Read through the accounts, billing and repairs services.
 */
export interface InboxContext {
  messageId: number;
  residentId: number;
  residentLabel: string;
  accounts: {
    accountId: number;
    accountNo: string;
    address: string;
    ownerNameMasked: string;
    relation: 'owner' | 'family' | 'tenant';
    relationLabel: string;
    status: 'active' | 'stopped' | 'sealed' | 'closed';
    statusLabel: string;
    /** sum of what is still due on the account's unpaid bills */
    dueFen: number;
    bills: {
      id: number;
      season: string;
      seasonLabel: string;
      status: 'unpaid' | 'paid' | 'void';
      statusLabel: string;
      dueFen: number;
      paidFen: number;
      chargeFen: number;
      dueDate: string;
    }[];
  }[];
  openTickets: {
    id: number;
    no: string;
    accountId: number;
    categoryLabel: string;
    emergency: boolean;
    status: string;
    statusLabel: string;
    createdAt: string;
  }[];
}

/** Before an announcement goes out: how many groups it is posted in and how many residents get the push. */
export interface AnnouncementPreview {
  groups: number;
  recipients: number;
  /** the groups' names, at most 10 (for the confirmation) */
  groupNames: string[];
}

/** Turn a resident's message into a repair ticket (the message text and photo are the defaults). */
export const MessageToRepairBody = z.object({
  category: z.enum(REPAIR_CATEGORIES, '请选择报修类型'),
  emergency: z.boolean().default(false),
  /** blank = the message's text */
  description: z.string().trim().max(500, '描述不超过500字').optional(),
  /** which of the resident's accounts in this building (blank = their first) */
  accountId: idParam().optional(),
});
export type MessageToRepairBody = z.input<typeof MessageToRepairBody>;

export const CannedReplyBody = z.object({
  category: z.enum(CANNED_CATEGORIES),
  title: z.string().trim().min(1, '请输入标题').max(50),
  body: z.string().trim().min(1, '请输入话术内容').max(1000),
});
export const CannedQuery = z.object({
  q: z.string().trim().max(50).optional(),
  category: z.enum(CANNED_CATEGORIES).optional(),
});
export const RenderCannedBody = z
  .object({ messageId: idParam().optional(), groupId: idParam().optional() })
  .refine((v) => v.messageId || v.groupId, { message: '请选择要回复的消息或群', path: ['messageId'] });
export const CANNED_PLACEHOLDERS = ['住户', '楼栋', '单元', '小区', '热线', '公司', '客服'] as const;

export const AnnouncementBody = z
  .object({
    scope: z.enum(['building', 'area', 'all']),
    /** building id or area id, by scope */
    targetId: idParam().optional(),
    type: z.enum(ANNOUNCEMENT_TYPES),
    title: z.string().trim().min(1, '请输入标题').max(20, '标题最多20字'),
    body: z.string().trim().min(1, '请输入公告内容').max(2000),
    /** ISO instant; required for outages */
    expectedRestoreAt: isoInstant('请填写正确的预计恢复时间').optional(),
    pinned: z.boolean().default(true),
  })
  .superRefine((v, ctx) => {
    if (v.scope !== 'all' && !v.targetId) ctx.addIssue({ code: 'custom', path: ['targetId'], message: '请选择楼栋或片区' });
    if (ANNOUNCEMENT_NEEDS_RESTORE.includes(v.type) && !v.expectedRestoreAt)
      ctx.addIssue({ code: 'custom', path: ['expectedRestoreAt'], message: '停热、停水停电公告须写明预计恢复时间' });
  });
export type AnnouncementBody = z.input<typeof AnnouncementBody>;

export const PinBody = z.object({ pinned: z.boolean() });
export const HideBody = z.object({ reason: z.string().trim().min(1, '请填写隐藏原因').max(200) });
export const MuteBody = z.object({
  residentId: idParam(),
  minutes: int32({ min: 1, max: 30 * 24 * 60, coerce: true }),
  reason: z.string().trim().max(200).optional(),
});
export const ReportBody = z.object({ reason: z.string().trim().min(1, '请填写举报原因').max(200) });
export const NoteBody = z.object({ body: z.string().trim().min(1, '请输入备注').max(1000) });
export const MetricsQuery = z.object({
  from: isoInstant().optional(),
  to: isoInstant().optional(),
});

export interface ResponseStats {
  answered: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}
export interface GroupMetrics {
  perAgent: ({ staffId: number; name: string } & ResponseStats)[];
  perArea: ({ areaId: number } & ResponseStats)[];
  unanswered: number;
  joinRate: { groupId: number; buildingId: number; name: string; households: number; joined: number; rate: number }[];
}

/**
 * Fill a canned reply's placeholders: {住户} {楼栋} {单元} {小区} {热线} {公司} {客服}.
 * Unknown placeholders stay as written so an agent sees what is missing.
 */
export function renderCannedReply(template: string, vars: Record<string, string | undefined>): string {
  return template.replace(/\{([^{}\s]{1,10})\}/g, (m, key: string) => (vars[key] !== undefined && vars[key] !== '' ? vars[key]! : m));
}

/** Median and p90 (nearest-rank) of durations in seconds. */
export function responseStats(seconds: number[]): ResponseStats {
  if (!seconds.length) return { answered: 0, medianSeconds: null, p90Seconds: null };
  const s = [...seconds].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { answered: s.length, medianSeconds: mid, p90Seconds: rank(0.9) };
}
