import Router from '@koa/router';
import { z } from 'zod';
import {
  AnnouncementBody,
  CannedQuery,
  CannedReplyBody,
  HideBody,
  IdParam,
  IdParams,
  InboxQuery,
  MessagesQuery,
  MessageToRepairBody,
  MetricsQuery,
  MuteBody,
  NoteBody,
  PageQuery,
  PinBody,
  PostMessage,
  ReadBody,
  RenderCannedBody,
  ReportBody,
} from '@heat-butler/shared';
import { route } from '../../platform/http';
import { ANY_STAFF } from '../../platform/auth';
import { GROUP_STAFF, type GroupsService } from './service';

const GroupMessageParams = z.object({ id: IdParam, messageId: IdParam });
/** Staff who may post announcements (outages come from dispatch and the substations too). */
const ANNOUNCERS = ['agent', 'butler', 'dispatcher', 'station', 'admin'] as const;

export function groupsRoutes(groups: GroupsService): Router {
  const r = new Router();

  // ---- residents ----
  route(r, { method: 'get', path: '/groups', auth: ['resident'] }, async ({ resident }) => ({ items: await groups.groupsForResident(resident()) }));

  // newest first with ?before=; the polling fallback is ?after=<last id seen>
  route(r, { method: 'get', path: '/groups/:id/messages', auth: ['resident'], params: IdParams, query: MessagesQuery }, ({ resident, params, query }) =>
    groups.messages(resident(), params.id, query),
  );

  route(r, { method: 'post', path: '/groups/:id/messages', auth: ['resident'], params: IdParams, body: PostMessage, status: 201 }, ({ resident, params, body }) =>
    groups.postResident(resident(), params.id, body),
  );

  route(r, { method: 'post', path: '/groups/:id/read', auth: ['resident'], params: IdParams, body: ReadBody }, ({ resident, params, body }) =>
    groups.markRead(resident(), params.id, body.upTo),
  );

  route(
    r,
    { method: 'post', path: '/groups/:id/messages/:messageId/report', auth: ['resident'], params: GroupMessageParams, body: ReportBody, status: 201 },
    async ({ resident, params, body }) => {
      await groups.report(resident(), params.id, params.messageId, body.reason);
      return { ok: true };
    },
  );

  // ---- staff: groups ----
  route(r, { method: 'get', path: '/staff/groups', auth: ANY_STAFF }, async ({ staff }) => ({ items: await groups.groupsForStaff(staff()) }));

  route(r, { method: 'get', path: '/staff/groups/metrics', auth: GROUP_STAFF, query: MetricsQuery }, ({ staff, query }) => groups.metrics(staff(), query));

  route(r, { method: 'get', path: '/staff/groups/:id/messages', auth: GROUP_STAFF, params: IdParams, query: MessagesQuery }, ({ staff, params, query }) =>
    groups.messages(staff(), params.id, query),
  );

  route(r, { method: 'post', path: '/staff/groups/:id/messages', auth: GROUP_STAFF, params: IdParams, body: PostMessage, status: 201 }, ({ staff, params, body }) =>
    groups.postStaff(staff(), params.id, body),
  );

  route(r, { method: 'post', path: '/staff/groups/:id/read', auth: GROUP_STAFF, params: IdParams, body: ReadBody }, ({ staff, params, body }) =>
    groups.markRead(staff(), params.id, body.upTo),
  );

  route(r, { method: 'post', path: '/staff/groups/:id/mute', auth: GROUP_STAFF, params: IdParams, body: MuteBody }, ({ staff, params, body }) =>
    groups.mute(staff(), params.id, body),
  );

  route(
    r,
    { method: 'post', path: '/staff/groups/:id/unmute', auth: GROUP_STAFF, params: IdParams, body: z.object({ residentId: IdParam }) },
    ({ staff, params, body }) => groups.unmute(staff(), params.id, body.residentId),
  );

  // ---- staff: inbox ----
  route(r, { method: 'get', path: '/staff/inbox', auth: GROUP_STAFF, query: InboxQuery }, ({ staff, query }) => groups.inbox(staff(), query));

  route(r, { method: 'post', path: '/staff/inbox/:id/claim', auth: GROUP_STAFF, params: IdParams }, ({ staff, params }) => groups.claim(staff(), params.id));

  route(r, { method: 'post', path: '/staff/inbox/:id/release', auth: GROUP_STAFF, params: IdParams }, ({ staff, params }) => groups.release(staff(), params.id));

  // turn a resident's message into a repair ticket, linked in the group by a reply quoting it
  route(r, { method: 'post', path: '/staff/inbox/:id/repair', auth: GROUP_STAFF, params: IdParams, body: MessageToRepairBody, status: 201 }, ({ staff, params, body }) =>
    groups.toRepair(staff(), params.id, body),
  );

  route(r, { method: 'post', path: '/staff/messages/:id/hide', auth: GROUP_STAFF, params: IdParams, body: HideBody }, ({ staff, params, body }) =>
    groups.hide(staff(), params.id, body.reason),
  );

  route(r, { method: 'post', path: '/staff/messages/:id/pin', auth: GROUP_STAFF, params: IdParams, body: PinBody }, ({ staff, params, body }) =>
    groups.pin(staff(), params.id, body.pinned),
  );

  route(r, { method: 'get', path: '/staff/reports', auth: GROUP_STAFF }, async ({ staff }) => ({ items: await groups.reports(staff()) }));

  // ---- standard replies (话术) ----
  route(r, { method: 'get', path: '/staff/canned-replies', auth: ANY_STAFF, query: CannedQuery }, async ({ query }) => ({ items: await groups.cannedList(query) }));

  route(r, { method: 'post', path: '/staff/canned-replies', auth: ['admin'], body: CannedReplyBody, status: 201 }, ({ body }) => groups.cannedCreate(body));

  route(r, { method: 'put', path: '/staff/canned-replies/:id', auth: ['admin'], params: IdParams, body: CannedReplyBody }, ({ params, body }) =>
    groups.cannedUpdate(params.id, body),
  );

  route(r, { method: 'delete', path: '/staff/canned-replies/:id', auth: ['admin'], params: IdParams }, ({ params }) => groups.cannedDelete(params.id));

  route(r, { method: 'post', path: '/staff/canned-replies/:id/render', auth: GROUP_STAFF, params: IdParams, body: RenderCannedBody }, ({ staff, params, body }) =>
    groups.cannedRender(staff(), params.id, body),
  );

  // ---- private notes on residents ----
  route(r, { method: 'get', path: '/staff/residents/:id/notes', auth: GROUP_STAFF, params: IdParams }, async ({ staff, params }) => ({
    items: await groups.notes(staff(), params.id),
  }));

  route(r, { method: 'post', path: '/staff/residents/:id/notes', auth: GROUP_STAFF, params: IdParams, body: NoteBody, status: 201 }, ({ staff, params, body }) =>
    groups.addNote(staff(), params.id, body.body),
  );

  // ---- announcements ----
  route(r, { method: 'post', path: '/staff/announcements', auth: ANNOUNCERS, body: AnnouncementBody, status: 201 }, ({ staff, body }) =>
    groups.announce(staff(), body),
  );

  route(r, { method: 'get', path: '/staff/announcements', auth: ANNOUNCERS, query: PageQuery }, ({ staff, query }) =>
    groups.announcements(staff(), query.page, query.pageSize),
  );

  return r;
}
