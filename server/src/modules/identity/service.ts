import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import type { ErrorCode, LoginResponse, StaffRole } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import type { AuthPrincipal } from '../../platform/auth';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { rawDatetime } from '../../platform/db/columns';
import { retryText, type Limiter } from '../../platform/limits';
import type { MiniProgramClient } from '../../wechat/miniprogram';
import { mapLoginError } from '../../wechat/miniprogram';
import { Resident, Session, Staff, StaffArea, StaffInvite } from './entities';

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/**
 * A resident's session, once read, is trusted from memory for this long: the bill list and every
 * other resident read then costs no session query (bench/bills.ts). A logout forgets it at once on
 * this instance and, through the realtime hub's 'close' message (Redis), on the others; should that
 * message be lost, the cached session is still refused after this many ms. Its expiry is checked on
 * every request. Staff sessions are always read from the database (roles, areas, disabling).
 */
export const SESSION_CACHE_MS = 15_000;
/** At most this many resident sessions cached per instance (oldest dropped first). */
const SESSION_CACHE_MAX = 20_000;
const INVITE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export interface IdentityDeps {
  ds: DataSource;
  wechat: MiniProgramClient;
  sessionTtlHours: number;
  clock: () => Date;
  limiter: Limiter;
}

/** A session ended (logout), or a staff account changed (disabled, roles, areas) after commit. */
export type SessionChange = { sessionId: number } | { staffId: number };

export class IdentityService {
  constructor(private d: IdentityDeps) {}

  /**
   * token → a resident's session as read from the database, and until when it may be reused. Keyed
   * by the token itself, which is in this process's memory for the request anyway: a lookup costs
   * no SHA-256 (the database holds only hashes).
   */
  private residentSessions = new Map<string, { principal: AuthPrincipal & { kind: 'resident' }; expiresAt: number; until: number }>();
  /** sessions ended in the last SESSION_CACHE_MS (a read that raced the logout must not cache them) */
  private endedSessions = new Map<number, number>();
  /** the database reads of tokens under way (resolveToken), each with `changes` as it began */
  private readingTokens = new Map<string, { principal: Promise<AuthPrincipal | 'expired' | null>; changes: number }>();
  /** bumped when a session ends or a staff member changes: a read begun before serves no later caller */
  private changes = 0;

  private sessionListeners: ((c: SessionChange) => void)[] = [];

  /**
   * The realtime hub closes the sockets of an ended session (groups wires it). An in-process
   * callback, not a domain event: it acts on this process's open sockets at once (the hub relays
   * to other instances), and needs no outbox retry, since a socket does not outlive a crash.
   */
  onSessionChange(fn: (c: SessionChange) => void): void {
    this.sessionListeners.push(fn);
  }

  /**
   * Tell listeners a staff member's account changed; callers that changed it inside their own
   * transaction call this after it committed.
   */
  staffChanged(staffId: number): void {
    this.changes++;
    for (const fn of this.sessionListeners) fn({ staffId });
  }

  // ---- sessions ---------------------------------------------------------------------------

  private async issueSession(kind: 'resident' | 'staff', subjectId: number): Promise<LoginResponse> {
    const token = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.d.clock().getTime() + this.d.sessionTtlHours * 3_600_000);
    await this.d.ds.getRepository(Session).insert({ tokenHash: sha256(token), kind, subjectId, expiresAt, revokedAt: null });
    return { token, expiresAt: expiresAt.toISOString(), kind };
  }

  /**
   * A resident's session from memory (SESSION_CACHE_MS), without a promise: the principal, 'expired',
   * or undefined when resolveToken must read the database. The API's token check takes this first.
   */
  cachedToken(token: string, now = this.d.clock().getTime()): AuthPrincipal | 'expired' | undefined {
    const cached = this.residentSessions.get(token);
    if (!cached || cached.until <= Date.now() || this.endedSessions.has(cached.principal.sessionId)) return undefined;
    return cached.expiresAt > now ? cached.principal : 'expired';
  }

  /**
   * Token -> principal; null when unknown; 'expired' when it was valid once. A resident's session
   * may come from memory (SESSION_CACHE_MS); `fresh` reads the database (the sockets' re-check).
   */
  resolveToken(token: string, o: { fresh?: boolean } = {}): Promise<AuthPrincipal | 'expired' | null> {
    const now = this.d.clock().getTime();
    if (!o.fresh) {
      const cached = this.cachedToken(token, now);
      if (cached !== undefined) return Promise.resolve(cached);
      // a read of this token already on its way, begun since the last session ended or staff
      // member changed here: wait for it rather than read again (a page's requests arrive
      // together, and without this every request in flight when a session's copy ran out read the
      // database). A change on another instance that this one hears of only later (a staff
      // member's roles) can reach a joiner a read's time late: the window of a request that came
      // that moment earlier.
      const reading = this.readingTokens.get(token);
      if (reading && reading.changes === this.changes) return reading.principal;
    }
    const principal = this.readToken(token, now);
    this.readingTokens.set(token, { principal, changes: this.changes });
    const done = () => {
      if (this.readingTokens.get(token)?.principal === principal) this.readingTokens.delete(token);
    };
    principal.then(done, done);
    return principal;
  }

  /** resolveToken's read of the database. */
  private async readToken(token: string, now: number): Promise<AuthPrincipal | 'expired' | null> {
    const hash = sha256(token);
    const readAt = Date.now();
    // one round trip for the common case (a resident): the session with its resident's openid
    const row = await this.d.ds
      .getRepository(Session)
      .createQueryBuilder('s')
      .leftJoin(Resident, 'r', "r.id = s.subjectId AND s.kind = 'resident'")
      .select(['s.id AS id', 's.kind AS kind', 's.subjectId AS subjectId', 's.expiresAt AS expiresAt', 's.revokedAt AS revokedAt', 'r.openid AS openid'])
      .where('s.tokenHash = :h', { h: hash })
      .getRawOne<Record<string, any>>();
    if (!row) return null;
    const s = {
      id: Number(row.id),
      kind: row.kind as string,
      subjectId: Number(row.subjectId),
      expiresAt: rawDatetime(row.expiresAt),
      revokedAt: row.revokedAt,
    };
    if (s.revokedAt || s.expiresAt.getTime() <= now) {
      this.residentSessions.delete(token);
      return 'expired';
    }
    if (s.kind === 'resident') {
      if (!row.openid) return null;
      const principal = { kind: 'resident' as const, residentId: s.subjectId, sessionId: s.id, openid: String(row.openid) };
      this.cacheResidentSession(token, principal, s.expiresAt.getTime(), readAt);
      return principal;
    }
    const staff = await this.d.ds.getRepository(Staff).findOne({ where: { id: s.subjectId } });
    if (!staff || staff.disabled) return 'expired';
    return {
      kind: 'staff',
      staffId: staff.id,
      sessionId: s.id,
      name: staff.name,
      roles: staff.roles,
      areaIds: await this.staffAreaIds(staff.id),
    };
  }

  async logout(sessionId: number): Promise<void> {
    await this.d.ds.getRepository(Session).update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: this.d.clock() });
    this.sessionEnded(sessionId);
    for (const fn of this.sessionListeners) fn({ sessionId });
  }

  /**
   * A session ended, here or on another instance (the realtime hub relays logouts): forget it now,
   * and don't cache it from a read that started before the logout.
   */
  sessionEnded(sessionId: number): void {
    this.changes++;
    const now = Date.now();
    this.endedSessions.delete(sessionId);
    this.endedSessions.set(sessionId, now);
    for (const [id, at] of this.endedSessions) {
      if (at > now - SESSION_CACHE_MS) break;
      this.endedSessions.delete(id);
    }
    for (const [token, c] of this.residentSessions) if (c.principal.sessionId === sessionId) this.residentSessions.delete(token);
  }

  private cacheResidentSession(token: string, principal: AuthPrincipal & { kind: 'resident' }, expiresAt: number, readAt: number): void {
    if (this.endedSessions.has(principal.sessionId)) return;
    this.residentSessions.delete(token);
    this.residentSessions.set(token, { principal, expiresAt, until: readAt + SESSION_CACHE_MS });
    if (this.residentSessions.size > SESSION_CACHE_MAX) this.residentSessions.delete(this.residentSessions.keys().next().value!);
  }

  // ---- residents ----------------------------------------------------------------------------

  /** WeChat login: code -> jscode2session -> resident (created on first login) -> session. */
  async loginWithWechat(code: string): Promise<LoginResponse> {
    const session = await this.code2Session(code);
    const resident = await this.upsertResident(session.openid, session.unionid ?? null);
    return this.issueSession('resident', resident.id);
  }

  private async code2Session(code: string) {
    try {
      return await this.d.wechat.code2Session(code);
    } catch (err) {
      throw new AppError(mapLoginError(err) as ErrorCode);
    }
  }

  private async upsertResident(openid: string, unionid: string | null): Promise<Resident> {
    const repo = this.d.ds.getRepository(Resident);
    const now = this.d.clock();
    const existing = await repo.findOne({ where: { openid } });
    if (existing) {
      await repo.update(existing.id, { lastLoginAt: now, unionid: unionid ?? existing.unionid });
      return existing;
    }
    try {
      return await repo.save(repo.create({ openid, unionid, nickname: null, lastLoginAt: now }));
    } catch (err) {
      // two first logins at once: the unique openid key lets one row win
      if (isUniqueViolation(err)) return repo.findOneOrFail({ where: { openid } });
      throw err;
    }
  }

  /** The resident with this openid, if they ever logged in. */
  async residentByOpenid(openid: string): Promise<Resident | null> {
    return this.d.ds.getRepository(Resident).findOne({ where: { openid } });
  }

  async resident(id: number): Promise<Resident> {
    return this.d.ds.getRepository(Resident).findOneOrFail({ where: { id } });
  }

  // ---- staff --------------------------------------------------------------------------------

  async staffAreaIds(staffId: number): Promise<number[]> {
    const rows = await this.d.ds.getRepository(StaffArea).find({ where: { staffId }, order: { areaId: 'ASC' } });
    return rows.map((r) => r.areaId);
  }

  /** Create a staff member; pass `em` to do it inside the caller's transaction (admin audit log). */
  async createStaff(input: { username: string; name: string; password: string; roles: StaffRole[]; areaIds: number[] }, outer?: EntityManager) {
    const run = <T>(fn: (em: EntityManager) => Promise<T>) => (outer ? fn(outer) : withTx(this.d.ds, fn));
    return run(async (em) => {
      const passwordHash = await bcrypt.hash(input.password, 10);
      let staff: Staff;
      try {
        staff = await em.save(
          em.create(Staff, { username: input.username, name: input.name, passwordHash, roles: input.roles, openid: null, disabled: false }),
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('USERNAME_EXISTS', { field: 'username' });
        throw err;
      }
      for (const areaId of new Set(input.areaIds)) await em.insert(StaffArea, { staffId: staff.id, areaId });
      return staff;
    });
  }

  /**
   * Password login. The try is counted first, per username (login.username: a lockout until the
   * window ends or an admin unlocks) and per client address (login.address), so a locked or
   * flooded login costs no bcrypt run and parallel guesses can't outrun the count. The right
   * password forgets the username's failures.
   */
  async loginStaff(username: string, password: string, address = 'unknown'): Promise<LoginResponse> {
    const userKey = username.trim().toLowerCase();
    const taken = await this.d.limiter.take([
      { limit: 'login.username', subject: userKey },
      { limit: 'login.address', subject: address },
    ]);
    const staff = await this.d.ds.getRepository(Staff).findOne({ where: { username } });
    // compare against a dummy hash when the user is unknown, so timing doesn't reveal usernames
    const ok = await bcrypt.compare(password, staff?.passwordHash ?? '$2b$10$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva');
    if (!staff || !ok) {
      if (taken.left > 0) throw new AppError('BAD_CREDENTIALS', { attemptsLeft: taken.left }).say(`用户名或密码错误（还可尝试${taken.left}次）`);
      throw new AppError('BAD_CREDENTIALS', { attemptsLeft: 0, retryAfterSeconds: taken.resetsIn }).say(
        `用户名或密码错误。失败次数已达上限，账号已暂时锁定，${retryText(taken.resetsIn, await this.d.limiter.hotlineSafe())}`,
      );
    }
    await taken.giveBack();
    await this.d.limiter.reset('login.username', userKey);
    if (staff.disabled) throw new AppError('STAFF_DISABLED');
    return this.issueSession('staff', staff.id);
  }

  /** Until when a username's password login stays locked (null: not locked). */
  async loginLockedUntil(username: string): Promise<Date | null> {
    const s = await this.d.limiter.blockedFor('login.username', username.trim().toLowerCase());
    return s ? new Date(this.d.clock().getTime() + s * 1000) : null;
  }

  /** Admin: lift a username's login lockout. */
  unlockLogin(username: string): Promise<void> {
    return this.d.limiter.reset('login.username', username.trim().toLowerCase());
  }

  /** Admin: a one-time code (valid 72 h) for a staff member to bind their WeChat. */
  async createInvite(staffId: number, adminId: number): Promise<{ inviteCode: string; expiresAt: string }> {
    const staff = await this.d.ds.getRepository(Staff).findOne({ where: { id: staffId } });
    if (!staff) throw new AppError('NOT_FOUND');
    const code = Array.from(crypto.randomBytes(8), (b) => INVITE_ALPHABET[b % INVITE_ALPHABET.length]).join('');
    const expiresAt = new Date(this.d.clock().getTime() + 72 * 3_600_000);
    await this.d.ds.getRepository(StaffInvite).insert({ code, staffId, createdBy: adminId, expiresAt, usedAt: null });
    return { inviteCode: code, expiresAt: expiresAt.toISOString() };
  }

  /** Staff binds WeChat with an invite code; later WeChat logins of that openid are staff logins. */
  async bindStaffWechat(code: string, inviteCode: string, address = 'unknown'): Promise<LoginResponse> {
    const now = this.d.clock();
    // invite codes can't be guessed in bulk: every try counts per client address, a good code's try is given back
    const taken = await this.d.limiter.take([{ limit: 'invite.address', subject: address }]);
    const invite = await this.d.ds.getRepository(StaffInvite).findOne({ where: { code: inviteCode } });
    if (!invite || invite.usedAt || invite.expiresAt.getTime() <= now.getTime()) throw new AppError('INVITE_INVALID');
    await taken.giveBack();
    const session = await this.code2Session(code);
    const staffId = await withTx(this.d.ds, async (em) => {
      const res = await em.update(StaffInvite, { id: invite.id, usedAt: IsNull() }, { usedAt: now });
      if (!res.affected) throw new AppError('INVITE_INVALID');
      const staff = await em.findOneOrFail(Staff, { where: { id: invite.staffId } });
      if (staff.disabled) throw new AppError('STAFF_DISABLED');
      await em.update(Staff, { openid: session.openid }, { openid: null });
      await em.update(Staff, staff.id, { openid: session.openid });
      return staff.id;
    });
    return this.issueSession('staff', staffId);
  }

  /** WeChat login for a staff member who bound their openid. */
  async loginStaffWithWechat(code: string): Promise<LoginResponse> {
    const session = await this.code2Session(code);
    const staff = await this.d.ds.getRepository(Staff).findOne({ where: { openid: session.openid } });
    if (!staff) throw new AppError('FORBIDDEN');
    if (staff.disabled) throw new AppError('STAFF_DISABLED');
    return this.issueSession('staff', staff.id);
  }

  /**
   * Disable a staff member: every session of theirs ends now. Inside the caller's transaction
   * (`outer`), the caller calls staffChanged() after commit (their open sockets close then).
   */
  async disableStaff(staffId: number, outer?: EntityManager): Promise<void> {
    const run = <T>(fn: (em: EntityManager) => Promise<T>) => (outer ? fn(outer) : withTx(this.d.ds, fn));
    await run(async (em) => {
      await em.update(Staff, staffId, { disabled: true });
      await em.update(Session, { kind: 'staff', subjectId: staffId, revokedAt: IsNull() }, { revokedAt: this.d.clock() });
    });
    if (!outer) this.staffChanged(staffId);
  }

  /** Admin: every staff member with their areas. */
  async listStaff(): Promise<(Staff & { areaIds: number[] })[]> {
    const staff = await this.d.ds.getRepository(Staff).find({ order: { id: 'ASC' } });
    const areas = await this.d.ds.getRepository(StaffArea).find({ order: { areaId: 'ASC' } });
    return staff.map((s) => Object.assign(s, { areaIds: areas.filter((a) => a.staffId === s.id).map((a) => a.areaId) }));
  }

  /**
   * Admin: change a staff member's name, roles or areas inside the caller's transaction; the
   * caller calls staffChanged() after commit (open sockets of other roles/areas close then).
   */
  async updateStaff(em: EntityManager, staffId: number, patch: { name?: string; roles?: StaffRole[]; areaIds?: number[] }): Promise<void> {
    const staff = await em.findOne(Staff, { where: { id: staffId } });
    if (!staff) throw new AppError('NOT_FOUND');
    const set: Partial<Staff> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.roles !== undefined) set.roles = patch.roles;
    if (Object.keys(set).length) await em.update(Staff, staffId, set);
    if (patch.areaIds !== undefined) {
      await em.delete(StaffArea, { staffId });
      if (patch.areaIds.length)
        await em.insert(
          StaffArea,
          [...new Set(patch.areaIds)].map((areaId) => ({ staffId, areaId })),
        );
    }
  }

  async staffByIds(ids: number[]): Promise<Staff[]> {
    if (!ids.length) return [];
    return this.d.ds.getRepository(Staff).find({ where: { id: In(ids) } });
  }

  /**
   * Active staff serving some areas, as (area, staff member) pairs by staff id; with `roles`, only
   * those holding one of them. Inside the caller's transaction when em is given.
   */
  async staffOfAreas(areaIds: number[], opts: { roles?: readonly StaffRole[]; em?: EntityManager } = {}): Promise<{ areaId: number; staff: Staff }[]> {
    if (!areaIds.length) return [];
    const em = opts.em ?? this.d.ds.manager;
    const links = await em.find(StaffArea, { where: { areaId: In(areaIds) } });
    if (!links.length) return [];
    const staff = new Map(
      (await em.find(Staff, { where: { id: In([...new Set(links.map((l) => l.staffId))]), disabled: false }, order: { id: 'ASC' } }))
        .filter((s) => !opts.roles || s.roles.some((r) => opts.roles!.includes(r)))
        .map((s) => [s.id, s]),
    );
    return links
      .filter((l) => staff.has(l.staffId))
      .sort((a, b) => a.staffId - b.staffId)
      .map((l) => ({ areaId: l.areaId, staff: staff.get(l.staffId)! }));
  }

  /** Lock the resident's row until the caller's transaction ends (one resident's binds queue up). */
  async lockResident(em: EntityManager, residentId: number): Promise<void> {
    await forUpdate(em.createQueryBuilder(Resident, 'r').where('r.id = :id', { id: residentId })).getOne();
  }

  /** Active admins (escalations reach them whatever the area). */
  async activeAdmins(em: EntityManager = this.d.ds.manager): Promise<Staff[]> {
    return (await em.find(Staff, { where: { disabled: false }, order: { id: 'ASC' } })).filter((s) => s.roles.includes('admin'));
  }
}
