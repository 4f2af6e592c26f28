/**
 * Subscription messages (订阅消息). WeChat opens wx.requestSubscribeMessage's dialog only from a
 * tap (or a payment callback), so `askSubscribe` must be called synchronously in the tap handler,
 * BEFORE any `await`; it resolves later with what the resident allowed. Each "允许" lets the
 * company send one message of that template: the client reports it to the BFF, which counts the
 * grants and sends only while one is left. Template ids come from the BFF (server configuration),
 * loaded at launch by `loadSubscribeTemplates`.
 * In the H5 build WeChat's dialog doesn't exist: the sandbox simulator records an accept.
 */
import Taro from '@tarojs/taro';
import { SUBSCRIBE_ASKS, SUBSCRIBE_TEMPLATES, type SubscribeAsk, type SubscribeTemplate } from '@heat-butler/shared';
import { api, getToken } from './api';
import { notificationsApi } from './api/platform';

const IS_H5 = process.env.TARO_ENV === 'h5';

let templateIds: Record<SubscribeTemplate, string> | null = null;
let loading: Promise<void> | null = null;

/** Fetch the configured template ids (once; again after a failure). */
export function loadSubscribeTemplates(): Promise<void> {
  if (templateIds) return Promise.resolve();
  if (!loading) {
    loading = notificationsApi
      .templates({ anonymous: true, quiet: true })
      .then((r) => {
        templateIds = r.templates;
      })
      // without the ids nobody is asked; the next tap tries again
      .catch(() => undefined)
      .finally(() => (loading = null));
  }
  return loading;
}

export interface SubscribeOutcome {
  /** templates the resident allowed this time (one more message each) */
  accepted: SubscribeTemplate[];
  /** messages left per template after this answer (null when the BFF could not be told) */
  counts: Record<SubscribeTemplate, number> | null;
}

const NOTHING: SubscribeOutcome = { accepted: [], counts: null };

/**
 * Ask for the messages of one place in the app (SUBSCRIBE_ASKS). Call it first thing in the tap
 * handler; never rejects (a refusal or an old WeChat just means no message).
 */
export function askSubscribe(ask: SubscribeAsk): Promise<SubscribeOutcome> {
  const keys = SUBSCRIBE_ASKS[ask] as readonly SubscribeTemplate[];
  if (!templateIds || !getToken()) {
    void loadSubscribeTemplates();
    return Promise.resolve(NOTHING);
  }
  const tmplIds = keys.map((k) => templateIds![k]);
  // the WeChat call happens now, synchronously inside the tap
  const answer: Promise<Record<string, string>> = IS_H5 ? sandboxDialog(tmplIds) : (Taro.requestSubscribeMessage({ tmplIds } as any) as Promise<any>);
  return answer
    .then((results) => notificationsApi.reportGrants({ results }, { quiet: true }))
    .then((r) => ({ accepted: r.accepted ?? [], counts: r.counts }))
    .catch(() => NOTHING);
}

/** The toast after asking: what the resident will really get. */
export function subscribeToast(outcome: SubscribeOutcome): string | null {
  if (!outcome.accepted.length) return null;
  return outcome.accepted.map((k) => `已订阅 1 次${SUBSCRIBE_TEMPLATES[k].title.replace(/通知$/, '')}提醒`).join('，');
}

/** Messages left for the resident, per template (for "已订阅 N 次提醒" labels). */
export async function subscribeCounts(): Promise<Record<SubscribeTemplate, number> | null> {
  return notificationsApi
    .grants({ quiet: true })
    .then((r) => r.counts)
    .catch(() => null);
}

/**
 * H5 sandbox: WeChat's dialog doesn't exist; the demo resident taps 允许 (the simulated WeChat
 * records the grant), without a modal so the H5 flows stay as in WeChat after the dialog.
 */
async function sandboxDialog(tmplIds: string[]): Promise<Record<string, string>> {
  const user = Taro.getStorageSync('hb.sandboxUser');
  if (!user) return {};
  return api.post<Record<string, string>>('/sandbox/device/subscribe', { user, tmplIds, decision: 'accept' }, { anonymous: true, quiet: true });
}
