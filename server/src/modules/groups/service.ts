/**
 * 管家群: one group per building, membership following account bindings, messages with masked
 * resident names, realtime fan-out, the agents' inbox (conversations, claims, replies, canned
 * replies, notes), moderation, announcements pushed as subscription messages, and response
 * metrics. This class is the module's service; the parts beside it do the work (membership.ts,
 * messages.ts, inbox.ts + conversations.ts + context.ts, canned.ts, moderation.ts, announcements.ts,
 * metrics.ts, all on core.ts).
 */
import type { EntityManager } from 'typeorm';
import type { AnnouncementBody, CannedCategory } from '@heat-butler/shared';
import type { z } from 'zod';
import type { AuthPrincipal, ResidentPrincipal, StaffPrincipal } from '../../platform/auth';
import type { BindingChange, Building } from '../accounts';
import type { PhotoVerdict } from '../moderation';
import type { GroupsDeps } from './core';
import { GroupMembership } from './membership';
import { GroupMessages, type PostInput } from './messages';
import { GroupInbox } from './inbox';
import { GroupContext } from './context';
import { GroupCanned } from './canned';
import { GroupModeration } from './moderation';
import { GroupAnnouncements } from './announcements';
import { GroupMetricsReader } from './metrics';

export { GROUP_STAFF, worksGroups, estateOf, roleLabel, type GroupsDeps } from './core';
export { CLAIM_TTL_MS } from './conversations';
export { DEFAULT_CANNED } from './canned';

type InboxQuery = { view: 'pending' | 'mine' | 'all'; groupId?: number; page: number; pageSize: number };
type CannedInput = { category: CannedCategory; title: string; body: string };

export class GroupsService {
  private readonly membership: GroupMembership;
  private readonly msgs: GroupMessages;
  private readonly box: GroupInbox;
  private readonly ctx: GroupContext;
  private readonly canned: GroupCanned;
  private readonly moderation: GroupModeration;
  private readonly ann: GroupAnnouncements;
  private readonly stats: GroupMetricsReader;

  constructor(private d: GroupsDeps) {
    this.membership = new GroupMembership(d);
    this.msgs = new GroupMessages(d);
    this.box = new GroupInbox(d, this.msgs);
    this.ctx = new GroupContext(d);
    this.canned = new GroupCanned(d);
    this.moderation = new GroupModeration(d);
    this.ann = new GroupAnnouncements(d);
    this.stats = new GroupMetricsReader(d);
  }

  /**
   * Hooks into the realtime hub and identity (events of other modules: reactions.ts). The session
   * hook is an in-process callback, not an event: it closes this process's sockets at once, and a
   * socket needs no retry after a crash (it is gone with the process).
   */
  register(): void {
    // sockets re-check their sessions in the database (a revoked one is found within the minute)
    this.d.realtime.setAuthenticator((token) => this.d.identity.resolveToken(token, { fresh: true }));
    // a logout on another instance reaches this one's session cache through the hub
    this.d.realtime.onSessionEnded((sessionId) => this.d.identity.sessionEnded(sessionId));
    this.d.realtime.setTopicProvider((p) => this.membership.topicsFor(p));
    this.d.identity.onSessionChange((c) => ('sessionId' in c ? this.d.realtime.endSession(c.sessionId) : this.d.realtime.recheckPrincipal(`s:${c.staffId}`)));
  }

  // ---- groups and membership (membership.ts) ----
  ensureGroup = (building: Building, em?: EntityManager) => this.membership.ensureGroup(building, em);
  ensureGroups = () => this.membership.ensureGroups();
  /** Join on bind, leave on unbind; runs inside the binding's transaction. */
  onBindingChange = (em: EntityManager, c: BindingChange) => this.membership.onBindingChange(em, c);
  /** WeChat's verdict on a message's photo (photo.checked, reactions.ts). */
  onPhotoVerdict = (messageId: number, verdict: PhotoVerdict) => this.msgs.onPhotoVerdict(messageId, verdict);
  groupsForResident = (p: ResidentPrincipal) => this.membership.groupsForResident(p);
  groupsForStaff = (p: StaffPrincipal) => this.membership.groupsForStaff(p);

  // ---- messages (messages.ts) ----
  messages = (p: AuthPrincipal, groupId: number, q: { before?: number; after?: number; limit: number }) => this.msgs.messages(p, groupId, q);
  markRead = (p: AuthPrincipal, groupId: number, upTo: number) => this.msgs.markRead(p, groupId, upTo);
  postResident = (p: ResidentPrincipal, groupId: number, body: PostInput) => this.msgs.postResident(p, groupId, body);
  report = (p: ResidentPrincipal, groupId: number, messageId: number, reason: string) => this.msgs.report(p, groupId, messageId, reason);
  postStaff = (p: StaffPrincipal, groupId: number, body: PostInput) => this.msgs.postStaff(p, groupId, body);

  // ---- inbox (inbox.ts, conversations.ts) ----
  inbox = (p: StaffPrincipal, q: InboxQuery) => this.box.inbox(p, q);
  claim = (p: StaffPrincipal, messageId: number) => this.box.claim(p, messageId);
  release = (p: StaffPrincipal, messageId: number) => this.box.release(p, messageId);
  /** the resident's accounts, bills and open tickets beside a question */
  context = (p: StaffPrincipal, messageId: number) => this.ctx.context(p, messageId);
  toRepair = (p: StaffPrincipal, messageId: number, input: Parameters<GroupInbox['toRepair']>[2]) => this.box.toRepair(p, messageId, input);

  // ---- canned replies and notes (canned.ts) ----
  cannedList = (q: { q?: string; category?: CannedCategory }) => this.canned.cannedList(q);
  cannedCreate = (input: CannedInput) => this.canned.cannedCreate(input);
  cannedUpdate = (id: number, input: CannedInput) => this.canned.cannedUpdate(id, input);
  cannedDelete = (id: number) => this.canned.cannedDelete(id);
  cannedRender = (p: StaffPrincipal, id: number, target: { messageId?: number; groupId?: number }) => this.canned.cannedRender(p, id, target);
  addNote = (p: StaffPrincipal, residentId: number, body: string) => this.canned.addNote(p, residentId, body);
  notes = (p: StaffPrincipal, residentId: number) => this.canned.notes(p, residentId);

  // ---- moderation (moderation.ts) ----
  hide = (p: StaffPrincipal, messageId: number, reason: string) => this.moderation.hide(p, messageId, reason);
  pin = (p: StaffPrincipal, messageId: number, pinned: boolean) => this.moderation.pin(p, messageId, pinned);
  mute = (p: StaffPrincipal, groupId: number, input: { residentId: number; minutes: number; reason?: string }) => this.moderation.mute(p, groupId, input);
  unmute = (p: StaffPrincipal, groupId: number, residentId: number) => this.moderation.unmute(p, groupId, residentId);
  reports = (p: StaffPrincipal) => this.moderation.reports(p);

  // ---- announcements and metrics (announcements.ts, metrics.ts) ----
  announce = (p: StaffPrincipal, body: z.output<typeof AnnouncementBody>) => this.ann.announce(p, body);
  previewAnnouncement = (p: StaffPrincipal, body: z.output<typeof AnnouncementBody>) => this.ann.preview(p, body);
  announcements = (p: StaffPrincipal, page: number, pageSize: number) => this.ann.announcements(p, page, pageSize);
  metrics = (p: StaffPrincipal, range: { from?: string; to?: string }) => this.stats.metrics(p, range);
}
