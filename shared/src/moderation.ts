/** Content security (WeChat msgSecCheck / mediaCheckAsync 2.0): the moderation trail staff see. */

export const MODERATION_VERDICT_LABEL: Record<string, string> = {
  pending: '审核中',
  pass: '通过',
  review: '疑似，已标记',
  risky: '违规，已拦截',
  error: '未能检测，已标记',
};

export const MODERATION_SUBJECT_LABEL: Record<string, string> = {
  group_message: '管家群消息',
  repair: '报修描述/照片',
  repair_rating: '维修评价',
  service_change: '报停/复供备注',
};

/** `GET /api/v1/staff/moderation`: one check of what a resident posted. */
export interface ModerationItem {
  id: number;
  kind: 'text' | 'image';
  subjectType: string;
  subjectLabel: string;
  subjectId: number | null;
  residentId: number;
  residentLabel: string;
  /** the text, or the photo's URL */
  content: string;
  verdict: string;
  verdictLabel: string;
  /** WeChat's label (100 normal, 20003 abuse …) */
  label: number | null;
  detail: string | null;
  createdAt: string;
  decidedAt: string | null;
}
