import Router from '@koa/router';
import { ModerationApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { openPush, PushRejected, verifyPushUrl, type PushConfig } from '../../wechat/push';
import type { ModerationService } from './service';

const MODERATORS = ['agent', 'butler', 'admin'] as const;

/**
 * `push`: the message push settings; `listeners`: other modules' handlers of verified pushes
 * (e.g. subscription changes), called after the content-security verdicts.
 */
export function moderationRoutes(moderation: ModerationService, push: PushConfig, listeners: ((msg: Record<string, any>) => Promise<void>)[] = []): Router {
  const r = new Router();

  /** The trail staff see: who posted what, WeChat's verdict, when (flagged=1: only what wasn't a clean pass). */
  route(r, { ...ModerationApi.list, auth: MODERATORS }, ({ staff, query }) =>
    moderation.list(staff(), { flagged: query.flagged === '1', page: query.page, pageSize: query.pageSize }),
  );

  // ---- WeChat message push (消息推送), JSON format: URL check and events ----
  r.get('/wechat/push', (ctx) => {
    try {
      ctx.type = 'text/plain';
      ctx.body = verifyPushUrl(push, ctx.query);
    } catch (err) {
      if (!(err instanceof PushRejected)) throw err;
      ctx.status = 401;
      ctx.body = 'invalid signature';
    }
  });
  r.post('/wechat/push', async (ctx) => {
    let msg: Record<string, any>;
    try {
      msg = openPush(push, ctx.query, (ctx.request as any).body);
    } catch (err) {
      if (!(err instanceof PushRejected)) throw err;
      ctx.state.log?.warn({ reason: err.message }, 'wechat push rejected');
      ctx.status = 401;
      ctx.body = 'invalid signature';
      return;
    }
    await moderation.onPush(msg);
    for (const listen of listeners) await listen(msg);
    // WeChat expects "success" (or an empty body) within 5 s, else it retries
    ctx.type = 'text/plain';
    ctx.body = 'success';
  });

  return r;
}
