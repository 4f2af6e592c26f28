import { z } from 'zod';
import { endpoint, json, NONE } from '../api/endpoint';
import { IdParam, IdParams, PageQuery, type Page } from '../api/common';
import {
  AnnouncementBody,
  CannedQuery,
  CannedReplyBody,
  GroupMessageView,
  HideBody,
  InboxQuery,
  MessagesQuery,
  MessageToRepairBody,
  MetricsQuery,
  MuteBody,
  NoteBody,
  PinBody,
  PostMessage,
  ReadBody,
  RenderCannedBody,
  ReportBody,
  type AnnouncementPreview,
  type AnnouncementType,
  type CannedCategory,
  type GroupMetrics,
  type GroupSummary,
  type InboxContext,
  type InboxItem,
  type StaffGroupSummary,
} from '../api/groups';
import type { RepairState } from '../repairs';

export const GroupMessageParams = z.object({ id: IdParam, messageId: IdParam });
export const UnmuteBody = z.object({ residentId: IdParam });

/** A page of a group's messages, newest first (?before=), or the ones after the last seen (?after=). */
export interface MessagesPage {
  items: GroupMessageView[];
  hasMore: boolean;
  unread: number;
}

/** A standard reply (话术) with its placeholders. */
export interface CannedReply {
  id: number;
  category: CannedCategory;
  title: string;
  body: string;
  useCount: number;
}

/** A private note staff keep on a resident. */
export interface ResidentNote {
  id: number;
  residentId: number;
  staffName: string;
  body: string;
  createdAt: string;
}

export interface ReportedMessage {
  id: number;
  reason: string;
  at: string;
  message: GroupMessageView;
}

/** An announcement with how far its subscription messages got. */
export interface AnnouncementView {
  id: number;
  scope: string;
  targetId: number | null;
  type: AnnouncementType;
  typeLabel: string;
  title: string;
  body: string;
  expectedRestoreAt: string | null;
  createdAt: string;
  delivery: { recipients: number; sent: number; pending: number; refused: number };
}

/** The ticket a resident's message became, and the reply that links it in the group. */
export interface MessageRepair {
  ticket: { id: number; no: string; status: RepairState; categoryLabel: string; emergency: boolean };
  reply: GroupMessageView;
}

/** 管家群: the residents' building groups; the staff inbox, standard replies, notes, announcements. */
export const GroupsApi = {
  list: endpoint({ method: 'get', path: '/groups', response: json<{ items: GroupSummary[] }>() }),
  messages: endpoint({ method: 'get', path: '/groups/:id/messages', params: IdParams, query: MessagesQuery, response: json<MessagesPage>() }),
  post: endpoint({ method: 'post', path: '/groups/:id/messages', params: IdParams, body: PostMessage, status: 201, response: GroupMessageView }),
  read: endpoint({ method: 'post', path: '/groups/:id/read', params: IdParams, body: ReadBody, response: json<{ unread: number }>() }),
  report: endpoint({
    method: 'post',
    path: '/groups/:id/messages/:messageId/report',
    params: GroupMessageParams,
    body: ReportBody,
    status: 201,
    response: json<{ ok: boolean }>(),
  }),

  staffGroups: endpoint({ method: 'get', path: '/staff/groups', response: json<{ items: StaffGroupSummary[] }>() }),
  metrics: endpoint({ method: 'get', path: '/staff/groups/metrics', query: MetricsQuery, response: json<GroupMetrics>() }),
  staffMessages: endpoint({ method: 'get', path: '/staff/groups/:id/messages', params: IdParams, query: MessagesQuery, response: json<MessagesPage>() }),
  staffPost: endpoint({ method: 'post', path: '/staff/groups/:id/messages', params: IdParams, body: PostMessage, status: 201, response: GroupMessageView }),
  staffRead: endpoint({ method: 'post', path: '/staff/groups/:id/read', params: IdParams, body: ReadBody, response: json<{ unread: number }>() }),
  mute: endpoint({ method: 'post', path: '/staff/groups/:id/mute', params: IdParams, body: MuteBody, response: json<{ mutedUntil: string }>() }),
  unmute: endpoint({ method: 'post', path: '/staff/groups/:id/unmute', params: IdParams, body: UnmuteBody, response: NONE }),

  inbox: endpoint({ method: 'get', path: '/staff/inbox', query: InboxQuery, response: json<Page<InboxItem>>() }),
  claim: endpoint({ method: 'post', path: '/staff/inbox/:id/claim', params: IdParams, response: json<InboxItem>() }),
  release: endpoint({ method: 'post', path: '/staff/inbox/:id/release', params: IdParams, response: NONE }),
  /** the resident's account context beside a question: accounts, bills, open tickets */
  context: endpoint({ method: 'get', path: '/staff/inbox/:id/context', params: IdParams, response: json<InboxContext>() }),
  toRepair: endpoint({
    method: 'post',
    path: '/staff/inbox/:id/repair',
    params: IdParams,
    body: MessageToRepairBody,
    status: 201,
    response: json<MessageRepair>(),
  }),
  hide: endpoint({ method: 'post', path: '/staff/messages/:id/hide', params: IdParams, body: HideBody, response: GroupMessageView }),
  pin: endpoint({ method: 'post', path: '/staff/messages/:id/pin', params: IdParams, body: PinBody, response: NONE }),
  reports: endpoint({ method: 'get', path: '/staff/reports', response: json<{ items: ReportedMessage[] }>() }),

  canned: endpoint({ method: 'get', path: '/staff/canned-replies', query: CannedQuery, response: json<{ items: CannedReply[] }>() }),
  createCanned: endpoint({ method: 'post', path: '/staff/canned-replies', body: CannedReplyBody, status: 201, response: json<CannedReply>() }),
  updateCanned: endpoint({ method: 'put', path: '/staff/canned-replies/:id', params: IdParams, body: CannedReplyBody, response: json<CannedReply>() }),
  deleteCanned: endpoint({ method: 'delete', path: '/staff/canned-replies/:id', params: IdParams, response: NONE }),
  renderCanned: endpoint({
    method: 'post',
    path: '/staff/canned-replies/:id/render',
    params: IdParams,
    body: RenderCannedBody,
    response: json<{ text: string; missing: string[] }>(),
  }),

  notes: endpoint({ method: 'get', path: '/staff/residents/:id/notes', params: IdParams, response: json<{ items: ResidentNote[] }>() }),
  addNote: endpoint({ method: 'post', path: '/staff/residents/:id/notes', params: IdParams, body: NoteBody, status: 201, response: json<ResidentNote>() }),

  /** what an announcement would reach (same body and checks as announce), for the confirmation */
  previewAnnouncement: endpoint({ method: 'post', path: '/staff/announcements/preview', body: AnnouncementBody, response: json<AnnouncementPreview>() }),
  announce: endpoint({ method: 'post', path: '/staff/announcements', body: AnnouncementBody, status: 201, response: json<AnnouncementView>() }),
  announcements: endpoint({ method: 'get', path: '/staff/announcements', query: PageQuery, response: json<Page<AnnouncementView>>() }),
};
