import Router from '@koa/router';
import { GroupsApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { ANY_STAFF } from '../../platform/auth';
import { GROUP_STAFF, type GroupsService } from './service';

/** Staff who may post announcements (outages come from dispatch and the substations too). */
const ANNOUNCERS = ['agent', 'butler', 'dispatcher', 'station', 'admin'] as const;

export function groupsRoutes(groups: GroupsService): Router {
  const r = new Router();

  // ---- residents ----
  route(r, { ...GroupsApi.list, auth: ['resident'] }, async ({ resident }) => ({ items: await groups.groupsForResident(resident()) }));

  // newest first with ?before=; the polling fallback is ?after=<last id seen>
  route(r, { ...GroupsApi.messages, auth: ['resident'] }, ({ resident, params, query }) => groups.messages(resident(), params.id, query));

  route(r, { ...GroupsApi.post, auth: ['resident'] }, ({ resident, params, body }) => groups.postResident(resident(), params.id, body));

  route(r, { ...GroupsApi.read, auth: ['resident'] }, ({ resident, params, body }) => groups.markRead(resident(), params.id, body.upTo));

  route(r, { ...GroupsApi.report, auth: ['resident'] }, async ({ resident, params, body }) => {
    await groups.report(resident(), params.id, params.messageId, body.reason);
    return { ok: true };
  });

  // ---- staff: groups ----
  route(r, { ...GroupsApi.staffGroups, auth: ANY_STAFF }, async ({ staff }) => ({ items: await groups.groupsForStaff(staff()) }));

  route(r, { ...GroupsApi.metrics, auth: GROUP_STAFF }, ({ staff, query }) => groups.metrics(staff(), query));

  route(r, { ...GroupsApi.staffMessages, auth: GROUP_STAFF }, ({ staff, params, query }) => groups.messages(staff(), params.id, query));

  route(r, { ...GroupsApi.staffPost, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.postStaff(staff(), params.id, body));

  route(r, { ...GroupsApi.staffRead, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.markRead(staff(), params.id, body.upTo));

  route(r, { ...GroupsApi.mute, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.mute(staff(), params.id, body));

  route(r, { ...GroupsApi.unmute, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.unmute(staff(), params.id, body.residentId));

  // ---- staff: inbox ----
  route(r, { ...GroupsApi.inbox, auth: GROUP_STAFF }, ({ staff, query }) => groups.inbox(staff(), query));

  route(r, { ...GroupsApi.claim, auth: GROUP_STAFF }, ({ staff, params }) => groups.claim(staff(), params.id));

  route(r, { ...GroupsApi.release, auth: GROUP_STAFF }, ({ staff, params }) => groups.release(staff(), params.id));

  // the resident's accounts, bills and open tickets beside the question
  route(r, { ...GroupsApi.context, auth: GROUP_STAFF }, ({ staff, params }) => groups.context(staff(), params.id));

  // turn a resident's message into a repair ticket, linked in the group by a reply quoting it
  route(r, { ...GroupsApi.toRepair, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.toRepair(staff(), params.id, body));

  route(r, { ...GroupsApi.hide, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.hide(staff(), params.id, body.reason));

  route(r, { ...GroupsApi.pin, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.pin(staff(), params.id, body.pinned));

  route(r, { ...GroupsApi.reports, auth: GROUP_STAFF }, async ({ staff }) => ({ items: await groups.reports(staff()) }));

  // ---- standard replies (话术) ----
  route(r, { ...GroupsApi.canned, auth: ANY_STAFF }, async ({ query }) => ({ items: await groups.cannedList(query) }));

  route(r, { ...GroupsApi.createCanned, auth: ['admin'] }, ({ body }) => groups.cannedCreate(body));

  route(r, { ...GroupsApi.updateCanned, auth: ['admin'] }, ({ params, body }) => groups.cannedUpdate(params.id, body));

  route(r, { ...GroupsApi.deleteCanned, auth: ['admin'] }, ({ params }) => groups.cannedDelete(params.id));

  route(r, { ...GroupsApi.renderCanned, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.cannedRender(staff(), params.id, body));

  // ---- private notes on residents ----
  route(r, { ...GroupsApi.notes, auth: GROUP_STAFF }, async ({ staff, params }) => ({
    items: await groups.notes(staff(), params.id),
  }));

  route(r, { ...GroupsApi.addNote, auth: GROUP_STAFF }, ({ staff, params, body }) => groups.addNote(staff(), params.id, body.body));

  // ---- announcements ----
  // how many residents it would reach, for the confirmation before pushing (nothing is posted)
  route(r, { ...GroupsApi.previewAnnouncement, auth: ANNOUNCERS }, ({ staff, body }) => groups.previewAnnouncement(staff(), body));

  route(r, { ...GroupsApi.announce, auth: ANNOUNCERS }, ({ staff, body }) => groups.announce(staff(), body));

  route(r, { ...GroupsApi.announcements, auth: ANNOUNCERS }, ({ staff, query }) => groups.announcements(staff(), query.page, query.pageSize));

  return r;
}
