/**
 * bySegment: each request runs only the routes of its first path segment, with the path-less
 * middleware of their router, routers sharing a segment in order; what no segment takes goes on.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bySegment } from './http';

let server: http.Server;
let url: string;
/** what ran for the last request, in order */
let ran: string[] = [];

beforeAll(async () => {
  const root = new Router();
  root.get('/healthz', (ctx) => void (ctx.body = 'ok'));
  const hooks = new Router({ prefix: '/api/v1' });
  hooks.use(async (_ctx, next) => {
    ran.push('hooks mw');
    await next();
  });
  hooks.post('/wechat/pay/notify', (ctx) => void (ctx.body = 'notify'));
  const api = new Router({ prefix: '/api/v1' });
  api.use(async (_ctx, next) => {
    ran.push('api mw');
    await next();
  });
  const bills = new Router();
  bills.get('/bills', (ctx) => void (ctx.body = 'list'));
  bills.get('/bills/:billId', (ctx) => void (ctx.body = `bill ${ctx.params.billId} ${(ctx as { _matchedRoute?: string })._matchedRoute}`));
  bills.get('/bills/summary', (ctx) => void (ctx.body = 'summary'));
  bills.post('/wechat/push', (ctx) => void (ctx.body = 'push'));
  api.use(bills.routes());
  const app = new Koa();
  app.use(bySegment([root, hooks, api]));
  app.use(api.allowedMethods());
  app.use(() => void ran.push('fell through'));
  server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

async function call(method: string, path: string) {
  ran = [];
  const res = await fetch(url + path, { method });
  return { status: res.status, body: await res.text(), allow: res.headers.get('allow'), ran };
}

it('runs the routes of the first segment with their router’s middleware, and no other router’s', async () => {
  expect(await call('GET', '/api/v1/bills')).toMatchObject({ status: 200, body: 'list', ran: ['api mw'] });
  expect(await call('GET', '/api/v1/bills/7')).toMatchObject({ status: 200, body: 'bill 7 /api/v1/bills/:billId', ran: ['api mw'] });
  expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: 'ok', ran: [] });
  // a prefix or first segment in another case is no route: @koa/router would match the route
  // case-insensitively but run its router's middleware (the token check) only under the prefix as written
  expect(await call('GET', '/API/V1/Bills/8')).toMatchObject({ status: 404, ran: ['fell through'] });
  expect(await call('GET', '/api/v1/Bills/8')).toMatchObject({ status: 404, ran: ['fell through'] });
  expect(await call('GET', '/HEALTHZ')).toMatchObject({ status: 404, ran: ['fell through'] });
  // nor a known path for allowedMethods' 405
  expect(await call('DELETE', '/API/V1/bills')).toMatchObject({ status: 404, allow: null, ran: ['fell through'] });
});

it('tries routers sharing a segment in order: the webhook, then the API', async () => {
  expect(await call('POST', '/api/v1/wechat/pay/notify')).toMatchObject({ status: 200, body: 'notify', ran: ['hooks mw'] });
  // (a router runs its middleware only for a path one of its routes takes, as @koa/router does)
  expect(await call('POST', '/api/v1/wechat/push')).toMatchObject({ status: 200, body: 'push', ran: ['api mw'] });
});

it('passes on what no segment takes, and a known path asked with another method gets 405 or 501', async () => {
  expect(await call('GET', '/api/v1/nowhere')).toMatchObject({ status: 404, ran: ['fell through'] });
  expect(await call('GET', '/elsewhere')).toMatchObject({ status: 404, ran: ['fell through'] });
  expect(await call('GET', '/api/v1')).toMatchObject({ status: 404, ran: ['fell through'] });
  expect(await call('DELETE', '/api/v1/bills')).toMatchObject({ status: 405, allow: 'HEAD, GET' });
  expect((await call('PROPFIND', '/api/v1/bills')).status).toBe(501);
});

it('matches as @koa/router does: a trailing slash, the case below the first segment, decoded parameters, HEAD for GET, the first route declared', async () => {
  expect(await call('GET', '/api/v1/bills/')).toMatchObject({ status: 200, body: 'list' });
  expect(await call('GET', '/api/v1/bills/7/')).toMatchObject({ status: 200, body: 'bill 7 /api/v1/bills/:billId' });
  expect(await call('GET', '/api/v1/bills/A%20b')).toMatchObject({ status: 200, body: 'bill A b /api/v1/bills/:billId' });
  // a malformed escape is passed on as it came, not a 500
  expect(await call('GET', '/api/v1/bills/%E0%A4%A')).toMatchObject({ status: 200, body: 'bill %E0%A4%A /api/v1/bills/:billId' });
  expect(await call('HEAD', '/api/v1/bills')).toMatchObject({ status: 200, body: '', ran: ['api mw'] });
  // /bills/:billId was declared first, so it takes /bills/summary
  expect((await call('GET', '/api/v1/bills/summary')).body).toBe('bill summary /api/v1/bills/:billId');
  expect(await call('OPTIONS', '/api/v1/bills/7')).toMatchObject({ status: 200, allow: 'HEAD, GET' });
});

it('refuses at start-up a route that passes on: one handler, taking no next', () => {
  const two = new Router({ prefix: '/api/v1' });
  two.get(
    '/bills',
    (_ctx) => undefined,
    (_ctx) => undefined,
  );
  expect(() => bySegment([two])).toThrow(/one handler that takes no next/);
  const passes = new Router({ prefix: '/api/v1' });
  passes.get('/bills', (_ctx, next) => next());
  expect(() => bySegment([passes])).toThrow(/one handler that takes no next/);
});

it('refuses at start-up a route whose first segment is a parameter', () => {
  const r = new Router({ prefix: '/api/v1' });
  r.get('/:anything', () => undefined);
  expect(() => bySegment([r])).toThrow(/must be literal/);
});
