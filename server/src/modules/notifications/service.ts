import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { SUBSCRIBE_TEMPLATE_KEYS, type SubscribeGrantCounts, type SubscribeTemplate } from '@heat-butler/shared';
import { enqueue, enqueueAll, outboxTopic, PermanentFailure, type OutboxItem, type OutboxWorker } from '../../platform/outbox';
import { insertRow, isUniqueViolation } from '../../platform/db/data-source';
import type { MiniProgramClient } from '../../wechat/miniprogram';
import type { IdentityService } from '../identity';
import { SubscribeGrant } from './entities';

/** A subscription message to send (the outbox job). */
export interface SubscribeJob {
  residentId: number;
  template: SubscribeTemplate;
  page?: string;
  data: Record<string, string>;
}

/** One subscription message to a resident (toResidents). */
export interface ResidentMessage {
  residentId: number;
  template: SubscribeTemplate;
  data: Record<string, string>;
  page?: string;
  dedupeKey?: string;
}

export const SUBSCRIBE_TOPIC = outboxTopic<SubscribeJob>('wechat.subscribe');

/**
 * WeChat errcodes that retrying cannot fix: 43101 the user refused / has no grant left, 47003 bad
 * data, 40003 bad openid, 40037 bad template id, 41030 bad page.
 */
export const PERMANENT_ERRCODES = new Set([43101, 47003, 40003, 40037, 41030]);

export interface NotificationsOptions {
  ds: DataSource;
  identity: IdentityService;
  wechat: MiniProgramClient;
  /** template key → WeChat template id (config WECHAT_TPL_*) */
  templateIds: Record<SubscribeTemplate, string>;
  /** config WECHAT_MINIPROGRAM_STATE: which version a message opens */
  miniprogramState: 'developer' | 'trial' | 'formal';
}

/**
 * Resident notifications as WeChat subscription messages, always through the outbox: queued in
 * the transaction of the state change, sent by the worker. One accepted grant allows one message:
 * grants are counted per resident × template (reported by the client after
 * wx.requestSubscribeMessage), a message is sent only while one is left and consumes it; without
 * one WeChat is not called and the row is closed as refused (dead). Refusals (43101 …) are recorded on
 * the outbox row and never retried.
 */
export class NotificationsService {
  constructor(private o: NotificationsOptions) {}

  /** The configured WeChat template ids, for the client. */
  templates(): Record<SubscribeTemplate, string> {
    return { ...this.o.templateIds };
  }

  templateId(template: SubscribeTemplate): string {
    return this.o.templateIds[template];
  }

  register(outbox: OutboxWorker): void {
    outbox.register(SUBSCRIBE_TOPIC, async (p) => {
      const resident = await this.o.identity.resident(p.residentId);
      // no grant left: WeChat would answer 43101; closed like a refusal (dead, never retried)
      if (!(await this.consume(p.residentId, p.template))) throw new PermanentFailure('not sent: no subscription grant left (43101 avoided)');
      let result: Awaited<ReturnType<MiniProgramClient['sendSubscribeMessage']>>;
      try {
        result = await this.o.wechat.sendSubscribeMessage({
          touser: resident.openid,
          templateId: this.o.templateIds[p.template],
          page: p.page,
          miniprogramState: this.o.miniprogramState,
          data: Object.fromEntries(Object.entries(p.data).map(([k, v]) => [k, { value: v }])),
        });
      } catch (err) {
        await this.add(p.residentId, p.template, 1); // not delivered: the grant is still there
        throw err;
      }
      if (result.ok) return;
      const msg = `subscribe/send errcode ${result.errcode}: ${result.errmsg}`;
      if (result.errcode === 43101) {
        // WeChat knows better: the resident refused, switched messages off or used the grant up
        await this.o.ds.getRepository(SubscribeGrant).update({ residentId: p.residentId, template: p.template }, { remaining: 0 });
      } else {
        await this.add(p.residentId, p.template, 1);
      }
      if (PERMANENT_ERRCODES.has(result.errcode)) throw new PermanentFailure(msg);
      throw new Error(msg);
    });
  }

  /**
   * Record what wx.requestSubscribeMessage answered (`{ "<templateId>": "accept" | "reject" |
   * "ban" | "filter" }`): one more grant per accepted template. Unknown ids are ignored.
   */
  async recordGrants(residentId: number, results: Record<string, string>): Promise<SubscribeGrantCounts> {
    const byId = new Map(SUBSCRIBE_TEMPLATE_KEYS.map((k) => [this.o.templateIds[k], k] as const));
    const accepted: SubscribeTemplate[] = [];
    for (const [id, decision] of Object.entries(results)) {
      const key = byId.get(id);
      if (!key || decision !== 'accept' || accepted.includes(key)) continue;
      await this.add(residentId, key, 1);
      accepted.push(key);
    }
    return { ...(await this.grants(residentId)), accepted };
  }

  /** Messages the resident can still receive, per template. */
  async grants(residentId: number): Promise<SubscribeGrantCounts> {
    const rows = await this.o.ds.getRepository(SubscribeGrant).find({ where: { residentId, template: In(SUBSCRIBE_TEMPLATE_KEYS) } });
    const counts = Object.fromEntries(SUBSCRIBE_TEMPLATE_KEYS.map((k) => [k, 0])) as Record<SubscribeTemplate, number>;
    for (const r of rows) counts[r.template as SubscribeTemplate] = r.remaining;
    return { counts };
  }

  /**
   * A verified push from WeChat (message push endpoint): when a resident switches a template off
   * in WeChat's settings (subscribe_msg_change_event, status reject), their grants for it are
   * gone; the count says so at once instead of after the next 43101.
   */
  async onPush(msg: Record<string, any>): Promise<void> {
    if (msg.Event !== 'subscribe_msg_change_event' || typeof msg.FromUserName !== 'string') return;
    const list: any[] = Array.isArray(msg.List) ? msg.List : msg.List ? [msg.List] : [];
    const byId = new Map(SUBSCRIBE_TEMPLATE_KEYS.map((k) => [this.o.templateIds[k], k] as const));
    const off = list
      .filter((i) => i?.SubscribeStatusString === 'reject')
      .map((i) => byId.get(String(i.TemplateId)))
      .filter((k): k is SubscribeTemplate => !!k);
    if (!off.length) return;
    const resident = await this.o.identity.residentByOpenid(msg.FromUserName);
    if (!resident) return;
    await this.o.ds.getRepository(SubscribeGrant).update({ residentId: resident.id, template: In(off) }, { remaining: 0 });
  }

  /** Take one grant; false when none is left. */
  private async consume(residentId: number, template: SubscribeTemplate): Promise<boolean> {
    const res = await this.o.ds
      .createQueryBuilder()
      .update(SubscribeGrant)
      .set({ remaining: () => 'remaining - 1' })
      .where('residentId = :residentId AND template = :template AND remaining > 0', { residentId, template })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  private async add(residentId: number, template: SubscribeTemplate, n: number): Promise<void> {
    const bump = () =>
      this.o.ds
        .createQueryBuilder()
        .update(SubscribeGrant)
        .set({ remaining: () => `remaining + ${Math.trunc(n)}` })
        .where('residentId = :residentId AND template = :template', { residentId, template })
        .execute();
    if (((await bump()).affected ?? 0) > 0) return;
    try {
      await insertRow(this.o.ds.manager, SubscribeGrant, { residentId, template, remaining: n });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await bump(); // inserted meanwhile by a concurrent report
    }
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
  async toResidents(em: EntityManager, messages: ResidentMessage[], now?: Date): Promise<void> {
    await enqueueAll(em, this.residentMessages(messages), now);
  }

  /** toResidents' outbox rows, for a caller that writes them with its own (Events.emit's `also`). */
  residentMessages(messages: ResidentMessage[]): OutboxItem[] {
    return messages.map((m) => ({
      topic: SUBSCRIBE_TOPIC,
      payload: { residentId: m.residentId, template: m.template, page: m.page, data: m.data },
      dedupeKey: m.dedupeKey,
      maxAttempts: 5,
    }));
  }
}
