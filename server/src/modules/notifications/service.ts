import type { EntityManager } from 'typeorm';
import { SUBSCRIBE_TEMPLATES, type SubscribeTemplate } from '@heat-butler/shared';
import { enqueue, enqueueMany, PermanentFailure, type OutboxWorker } from '../../platform/outbox';
import type { MiniProgramClient } from '../../wechat/miniprogram';
import type { IdentityService } from '../identity/service';

export const SUBSCRIBE_TOPIC = 'wechat.subscribe';

/** WeChat errcodes that retrying cannot fix: the user refused or has no grant left, bad data. */
const PERMANENT_ERRCODES = new Set([43101, 47003, 40003, 40037]);

/**
 * Resident notifications as WeChat subscription messages, always through the outbox: queued in
 * the transaction of the state change, sent by the worker, refusals recorded and not retried.
 */
export class NotificationsService {
  constructor(
    private identity: IdentityService,
    private wechat: MiniProgramClient,
    private templateIds: Partial<Record<SubscribeTemplate, string>> = {},
  ) {}

  register(outbox: OutboxWorker): void {
    outbox.register(SUBSCRIBE_TOPIC, async (p: { residentId: number; template: SubscribeTemplate; page?: string; data: Record<string, string> }) => {
      const resident = await this.identity.resident(p.residentId);
      const result = await this.wechat.sendSubscribeMessage({
        touser: resident.openid,
        templateId: this.templateIds[p.template] ?? SUBSCRIBE_TEMPLATES[p.template].id,
        page: p.page,
        data: Object.fromEntries(Object.entries(p.data).map(([k, v]) => [k, { value: v }])),
      });
      if (!result.ok) {
        const msg = `subscribe/send errcode ${result.errcode}: ${result.errmsg}`;
        if (PERMANENT_ERRCODES.has(result.errcode)) throw new PermanentFailure(msg);
        throw new Error(msg);
      }
    });
  }

  /** Queue a message to a resident inside the caller's transaction (once per dedupeKey). */
  async toResident(
    em: EntityManager,
    residentId: number,
    template: SubscribeTemplate,
    data: Record<string, string>,
    opts: { page?: string; dedupeKey?: string; now?: Date } = {},
  ): Promise<void> {
    await enqueue(em, SUBSCRIBE_TOPIC, { residentId, template, page: opts.page, data }, { dedupeKey: opts.dedupeKey, now: opts.now, maxAttempts: 5 });
  }

  /** Many messages in one INSERT (their dedupe keys must be new). */
  async toResidents(
    em: EntityManager,
    messages: { residentId: number; template: SubscribeTemplate; data: Record<string, string>; page?: string; dedupeKey?: string }[],
    now?: Date,
  ): Promise<void> {
    if (!messages.length) return;
    await enqueueMany(
      em,
      messages.map((m) => ({ topic: SUBSCRIBE_TOPIC, payload: { residentId: m.residentId, template: m.template, page: m.page, data: m.data }, dedupeKey: m.dedupeKey, maxAttempts: 5 })),
      now,
    );
  }
}
