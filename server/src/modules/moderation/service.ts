/**
 * Content security for what residents post (WeChat's review requires it for user-generated
 * content). Text goes through msgSecCheck 2.0 before it is published: `risky` is refused
 * (CONTENT_RISKY), `review` is published but flagged for staff. Photos go through
 * mediaCheckAsync 2.0: the subject publishes them as 审核中 (hidden from others) and is told the
 * verdict when WeChat pushes `wxa_media_check` to the message push endpoint (routes.ts): shown on
 * pass/review, removed on risky. When WeChat cannot check (network, 61010 …) the content is
 * published flagged (`error`) so staff look at it. Every check is kept as the moderation trail.
 */
import type { UploadsService } from '../../platform/uploads/service';
import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { MODERATION_SUBJECT_LABEL, MODERATION_VERDICT_LABEL, type ModerationItem, type Page } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { withTx } from '../../platform/db/data-source';
import type { Events, PhotoChecked } from '../../platform/events';
import { staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import { WechatApiError, type MiniProgramClient, type SecScene } from '../../wechat/miniprogram';
import type { IdentityService } from '../identity';
import { ModerationRecord } from './entities';

export type TextVerdict = 'pass' | 'review' | 'error';
/** What a subject does with a photo once WeChat decided: show it (pass/review/error) or remove it (risky). */
export type PhotoVerdict = PhotoChecked['verdict'];

export interface ModerationOptions {
  ds: DataSource;
  clock: () => Date;
  log: Logger;
  /** photo.checked, emitted with the verdict's record */
  events: Events;
  identity: IdentityService;
  wechat: MiniProgramClient;
  /** where WeChat fetches photos from: <PUBLIC_BASE_URL>/api/v1/uploads/<key>?exp=…&sig=… */
  publicBaseUrl: string;
  /** signed photo links (for WeChat's fetch and the staff trail) */
  uploads: UploadsService;
}

/** WeChat fetches a photo some time after mediaCheckAsync accepted it (results come within 30 minutes) */
const MEDIA_LINK_TTL_SECONDS = 2 * 60 * 60;

export class ModerationService {
  constructor(private o: ModerationOptions) {}

  /**
   * Check a resident's text before it is published. Throws CONTENT_RISKY for risky text (recorded);
   * returns the verdict and the trail record (link it to the subject with `link`).
   */
  async checkText(
    who: number | { residentId: number; openid: string },
    text: string,
    where: { subjectType: string; scene: SecScene; areaId?: number | null },
  ): Promise<{ verdict: TextVerdict; recordId: number }> {
    // a resident's session carries the openid WeChat checks the text for; else it is looked up
    const residentId = typeof who === 'number' ? who : who.residentId;
    const resident = typeof who === 'number' ? await this.o.identity.resident(who) : who;
    let verdict: TextVerdict | 'risky';
    let label: number | null = null;
    let traceId: string | null = null;
    let detail: string | null = null;
    try {
      const r = await this.o.wechat.msgSecCheck({ openid: resident.openid, scene: where.scene, content: text });
      verdict = r.suggest;
      label = r.label;
      traceId = r.traceId || null;
    } catch (err) {
      verdict = 'error';
      detail = errText(err);
      this.o.log.warn({ err: detail, subjectType: where.subjectType }, 'msgSecCheck failed: published flagged');
    }
    const recordId = await this.record({
      kind: 'text',
      residentId,
      subjectType: where.subjectType,
      areaId: where.areaId ?? null,
      content: text.slice(0, 500),
      scene: where.scene,
      verdict,
      label,
      traceId,
      detail,
      decidedAt: this.o.clock(),
    });
    if (verdict === 'risky') throw new AppError('CONTENT_RISKY', { label });
    return { verdict, recordId };
  }

  /** Attach trail records to the subject created after the check. */
  async link(recordIds: number[], subjectId: number): Promise<void> {
    if (recordIds.length) await this.o.ds.getRepository(ModerationRecord).update({ id: In(recordIds) }, { subjectId });
  }

  /** The checks of one subject (e.g. a group message's text and photo). */
  async verdictsOf(subjectType: string, subjectId: number): Promise<{ kind: 'text' | 'image'; verdict: string }[]> {
    return this.o.ds.getRepository(ModerationRecord).find({ where: { subjectType, subjectId }, select: { kind: true, verdict: true } });
  }

  /**
   * Send a resident's photo (an upload key, or an http(s) URL) to mediaCheckAsync; the subject keeps it 审核中 until
   * photo.checked brings the verdict (its reaction, after commit). If WeChat cannot take it,
   * photo.checked says `error` at once (show, flagged).
   */
  async checkPhoto(
    residentId: number,
    photo: string,
    where: { subjectType: string; subjectId: number; scene: SecScene; areaId?: number | null },
  ): Promise<void> {
    const resident = await this.o.identity.resident(residentId);
    const base = {
      kind: 'image' as const,
      residentId,
      subjectType: where.subjectType,
      subjectId: where.subjectId,
      areaId: where.areaId ?? null,
      content: photo.slice(0, 500),
      scene: where.scene,
    };
    try {
      const { traceId } = await this.o.wechat.mediaCheckAsync({ openid: resident.openid, scene: where.scene, mediaUrl: this.mediaUrl(photo) });
      await this.record({ ...base, verdict: 'pending', label: null, traceId, detail: null, decidedAt: null });
    } catch (err) {
      const detail = errText(err);
      this.o.log.warn({ err: detail, subjectType: where.subjectType }, 'mediaCheckAsync failed: published flagged');
      await withTx(this.o.ds, async (em) => {
        const recordId = await this.record({ ...base, verdict: 'error', label: null, traceId: null, detail, decidedAt: this.o.clock() }, em);
        await this.o.events.emit(em, 'photo.checked', [{ subjectType: where.subjectType, subjectId: where.subjectId, photo, verdict: 'error', recordId }]);
      });
    }
  }

  /** A verified push from WeChat (routes.ts). Unknown events and repeated verdicts are ignored. */
  async onPush(msg: Record<string, any>): Promise<void> {
    if (msg.Event !== 'wxa_media_check' || typeof msg.trace_id !== 'string') return;
    const suggest = msg.result?.suggest;
    const verdict: PhotoVerdict = suggest === 'pass' || suggest === 'review' || suggest === 'risky' ? suggest : 'error';
    const repo = this.o.ds.getRepository(ModerationRecord);
    const rec = await repo.findOneBy({ traceId: msg.trace_id, kind: 'image' });
    if (!rec) return;
    // decide once (WeChat may push again); the subject learns it from photo.checked, after commit
    await withTx(this.o.ds, async (em) => {
      const res = await em.getRepository(ModerationRecord).update(
        { id: rec.id, verdict: 'pending' },
        {
          verdict,
          label: msg.result?.label === undefined ? null : Number(msg.result.label),
          decidedAt: this.o.clock(),
          detail: verdict === 'error' ? `errcode ${msg.errcode ?? ''} ${msg.errmsg ?? ''}`.slice(0, 200) : null,
        },
      );
      if (!res.affected) return;
      await this.o.events.emit(em, 'photo.checked', [
        { subjectType: rec.subjectType, subjectId: rec.subjectId!, photo: rec.content, verdict, recordId: rec.id },
      ]);
    });
  }

  /** The trail for staff, newest first; `flagged` = everything but pass. */
  async list(p: StaffPrincipal, q: { flagged?: boolean; page: number; pageSize: number }): Promise<Page<ModerationItem>> {
    const scope = staffAreaFilter(p);
    const qb = this.o.ds.getRepository(ModerationRecord).createQueryBuilder('r');
    if (scope !== 'all') qb.where(scope.length ? 'r.areaId IN (:...areas)' : '1 = 0', { areas: scope });
    if (q.flagged) qb.andWhere('r.verdict <> :pass', { pass: 'pass' });
    const [rows, total] = await qb
      .orderBy('r.id', 'DESC')
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
    const residents = new Map(
      (await Promise.all([...new Set(rows.map((r) => r.residentId))].map((id) => this.o.identity.resident(id).catch(() => null))))
        .filter((r) => !!r)
        .map((r) => [r!.id, r!]),
    );
    return {
      items: rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        subjectType: r.subjectType,
        subjectLabel: MODERATION_SUBJECT_LABEL[r.subjectType] ?? r.subjectType,
        subjectId: r.subjectId,
        residentId: r.residentId,
        residentLabel: residents.get(r.residentId)?.nickname || `住户#${r.residentId}`,
        content: r.kind === 'image' ? this.o.uploads.link(r.content) : r.content,
        verdict: r.verdict,
        verdictLabel: MODERATION_VERDICT_LABEL[r.verdict] ?? r.verdict,
        label: r.label,
        detail: r.detail,
        createdAt: r.createdAt.toISOString(),
        decidedAt: r.decidedAt?.toISOString() ?? null,
      })),
      total,
      page: q.page,
      pageSize: q.pageSize,
    };
  }

  /** Where WeChat fetches a photo: a signed link to our upload, valid long enough for its asynchronous check. */
  private mediaUrl(photo: string): string {
    return photo.startsWith('up_') ? `${this.o.publicBaseUrl}${this.o.uploads.link(photo, MEDIA_LINK_TTL_SECONDS)}` : photo;
  }

  private async record(
    values: Omit<ModerationRecord, 'id' | 'createdAt' | 'subjectId'> & { subjectId?: number | null },
    em: EntityManager = this.o.ds.manager,
  ): Promise<number> {
    const repo = em.getRepository(ModerationRecord);
    const row = await repo.save(repo.create({ subjectId: null, ...values, createdAt: this.o.clock() }));
    return row.id;
  }
}

function errText(err: unknown): string {
  return (err instanceof WechatApiError ? `errcode ${err.errcode}: ${err.errmsg}` : String((err as Error)?.message ?? err)).slice(0, 200);
}
