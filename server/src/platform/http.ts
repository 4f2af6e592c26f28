import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import Router from '@koa/router';
import { ERRORS, type Endpoint, type FieldIssue, type FileDownload, type HttpMethod, type Principal, type ResponseOf } from '@heat-butler/shared';
import { z } from 'zod';
import { AppError, zodFields } from './errors';
import { isAllowed, type AuthPrincipal, type ResidentPrincipal, type StaffPrincipal } from './auth';

type Method = HttpMethod;

/**
 * A route as the server declares it: a route descriptor from shared/ (method, path, schemas,
 * status, response) plus who may call it: `route(r, { ...BillingApi.bills, auth: ['resident'] }, …)`.
 */
export type RouteSpec = Endpoint & {
  /** who may call it: 'public', or the principals ('resident' and staff roles) */
  auth: 'public' | readonly Principal[];
};

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  principal: AuthPrincipal | null;
  ctx: Koa.Context;
  /** the calling resident (throws UNAUTHENTICATED otherwise) */
  resident(): ResidentPrincipal;
  /** the calling staff member (throws UNAUTHENTICATED otherwise) */
  staff(): StaffPrincipal;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : any;

/** What a handler returns: the descriptor's response (a file download: unknown, the body it sets or returns). */
type HandlerResult<S extends RouteSpec> = ResponseOf<S> extends FileDownload ? unknown : ResponseOf<S>;

/** A route as declared: what the access matrix, the ownership test and the fuzz test read. */
export interface RegisteredRoute {
  method: Method;
  /** the path below /api/v1: '/staff/reconciliation/days/:date' */
  path: string;
  auth: 'public' | readonly Principal[];
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  /** the shared descriptor the route was declared from */
  endpoint: Endpoint;
}

const registry = new Map<string, RegisteredRoute>();

/** Every route declared through route(), once each (apps built again re-declare the same ones). */
export function registeredRoutes(): RegisteredRoute[] {
  return [...registry.values()];
}

/**
 * A thin route: check the caller's role, parse body/query/params with the shared schemas
 * (every invalid field reported at once), call the handler, answer JSON.
 */
export function route<const S extends RouteSpec>(
  router: Router,
  spec: S,
  handler: (input: RouteInput<Parsed<S['body']>, Parsed<S['query']>, Parsed<S['params']>>) => Promise<HandlerResult<S>> | HandlerResult<S>,
): void {
  if (router.opts.prefix) throw new Error(`route ${spec.path}: descriptors carry the whole path; declare it on a router without a prefix`);
  const { auth, ...endpoint } = spec;
  const path = spec.path;
  registry.set(`${spec.method.toUpperCase()} ${path}`, { method: spec.method, path, auth, body: spec.body, query: spec.query, params: spec.params, endpoint });
  router[spec.method](spec.path, async (ctx) => {
    const principal: AuthPrincipal | null = ctx.state.principal ?? null;
    if (!isAllowed(principal, spec.auth)) {
      throw new AppError(principal ? 'FORBIDDEN' : ctx.state.sessionExpired ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED');
    }
    const fields: FieldIssue[] = [];
    const parse = (schema: z.ZodType | undefined, value: unknown, prefix: string) => {
      if (!schema) return value;
      const r = schema.safeParse(value);
      if (r.success) return r.data;
      fields.push(...zodFields(r.error, prefix));
      return undefined;
    };
    const params = parse(spec.params, ctx.params, 'params');
    const query = parse(spec.query, ctx.query, 'query');
    const body = parse(spec.body, (ctx.request as any).body ?? {}, '');
    if (fields.length) throw new AppError('VALIDATION_FAILED', { fields });
    const result = await handler({
      body: body as any,
      query: query as any,
      params: params as any,
      principal,
      ctx,
      resident() {
        if (principal?.kind !== 'resident') throw new AppError('UNAUTHENTICATED');
        return principal;
      },
      staff() {
        if (principal?.kind !== 'staff') throw new AppError('UNAUTHENTICATED');
        return principal;
      },
    });
    if (result === undefined) {
      ctx.status = 204;
    } else {
      ctx.status = spec.status ?? 200;
      ctx.body = result;
    }
  });
}

/**
 * Routers dispatched by the first path segment below their prefix: `/api/v1/bills/3` runs only the
 * routes of `/api/v1/bills…`, `/healthz` only that one. @koa/router tests a request against its
 * routes one regular expression at a time, and each router a request passes through also reads the
 * Host header and composes the matched middleware: one router of all ~150 API routes, behind the
 * health and webhook routers, was some 4 % of the BFF's CPU on the bill list (bench/bills.ts). Each
 * router's routes are split by segment into routers of their own, with its path-less middleware
 * (`router.use(fn)`: body parser, token check) in each, in their order; routers sharing a segment
 * run in the given order. A path no router has a segment for goes on to `next` (404, or
 * allowedMethods' 405/501 for a known path). Prefixes and segments are literal and matched as
 * written: @koa/router matches a route's path case-insensitively but its routers' path-less
 * middleware only under the prefix as written, so `/API/V1/bills` once reached the bill list
 * without its router's body parser and token check (401 for a valid token). It is a 404 now.
 */
export function bySegment(routers: Router[]): Koa.Middleware {
  const table = new Map<string, Koa.Middleware[]>();
  const prefixes = new Set<string>();
  for (const router of routers) {
    const prefix = router.opts.prefix ?? '';
    prefixes.add(prefix);
    const segmentOf = (path: string | RegExp) => {
      if (typeof path !== 'string') throw new Error(`bySegment: ${String(path)} is not a path`);
      if (!path.startsWith(`${prefix}/`)) throw new Error(`bySegment: ${path} is not below ${prefix}/`);
      const segment = path.slice(prefix.length + 1).split('/', 1)[0]!;
      if (!/^[\w.-]+$/.test(segment)) throw new Error(`bySegment: the first segment of ${path} must be literal`);
      return segment;
    };
    // each route's segment; null for path-less middleware, which goes with every segment
    const segmentOfLayer = router.stack.map((l) => (l.methods.length ? segmentOf(l.path) : null));
    for (const segment of new Set(segmentOfLayer.filter((s) => s !== null))) {
      const sub = new Router({ prefix: router.opts.prefix });
      sub.stack = router.stack.filter((_, i) => segmentOfLayer[i] === null || segmentOfLayer[i] === segment);
      const key = `${prefix}/${segment}`;
      table.set(key, [...(table.get(key) ?? []), sub.routes() as Koa.Middleware]);
    }
  }
  const dispatch = new Map(
    [...table].map(([key, [first, ...rest]]) => [key, rest.reduce<Koa.Middleware>((run, mw) => (ctx, next) => run(ctx, () => mw(ctx, next)), first!)]),
  );
  const byLength = [...prefixes].sort((a, b) => b.length - a.length);
  return (ctx, next) => {
    const path = ctx.path;
    for (const prefix of byLength) {
      if (path.charCodeAt(prefix.length) !== 47 /* '/' */ || !path.startsWith(prefix)) continue;
      const end = path.indexOf('/', prefix.length + 1);
      const run = dispatch.get(end < 0 ? path : path.slice(0, end));
      if (run) return run(ctx, next);
    }
    return next();
  };
}

/**
 * Requests Node refuses before any handler runs (a URL or headers over 16 KiB, a malformed request
 * line) are answered in the API's error shape too, instead of Node's bare 400/431.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST';
    const { status, message } = ERRORS[code];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
