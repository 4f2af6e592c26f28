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
type ParsedQuery<S> = S extends z.ZodType ? z.output<S> : undefined;

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
  handler: (input: RouteInput<Parsed<S['body']>, ParsedQuery<S['query']>, Parsed<S['params']>>) => Promise<HandlerResult<S>> | HandlerResult<S>,
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
    // ctx.query parses the query string: only for a route that takes one
    const query = spec.query ? parse(spec.query, ctx.query, 'query') : undefined;
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

type Layer = Router['stack'][number];

/** A route as the dispatcher runs it: its router's path-less middleware before it, then its handler. */
interface Dispatched {
  layer: Layer;
  methods: ReadonlySet<string>;
  run: Koa.Middleware;
}

/**
 * The API's dispatcher, by the first path segment below a router's prefix: `/api/v1/bills/3` is
 * tried against the routes of `/api/v1/bills…` only, `/healthz` against that one. The routers are
 * route tables, read once at start-up: @koa/router's own middleware reads the Host header, tests
 * every route, and builds a closure per matched layer and a koa-compose chain on every request,
 * which was several points of the bill list's ratio to a bare handler (bench/bills.ts, RESULTS.md).
 * Here each route's chain (the path-less middleware its router has before it, `router.use(fn)`:
 * body parser, token check; then its handler) is composed at start-up, and a request costs the
 * regular expressions of its segment's routes and one closure per path-less layer.
 *
 * The rules are @koa/router's, from its own layers: a route's path matches case-insensitively and
 * with or without a trailing slash (its `regexp`), GET takes HEAD, parameters are decoded by its
 * `params`, the first route taking path and method answers (routers sharing a segment in the given
 * order), and `ctx._matchedRoute` names its template. A request no route takes goes on to `next`
 * with `ctx.matched` (the routes that take its path), for allowedMethods' 405/501/OPTIONS. Prefixes
 * and first segments are literal and matched as written: @koa/router matched a route's path
 * case-insensitively but its routers' path-less middleware only under the prefix as written, so
 * `/API/V1/bills` once reached the bill list without the body parser and token check (401 for a
 * valid token). It is a 404 here. A route answers: one handler that takes no `next` (start-up
 * refuses others), so nothing after it in its router runs.
 */
export function bySegment(routers: Router[]): Koa.Middleware {
  const table = new Map<string, Dispatched[]>();
  const prefixes = new Set<string>();
  for (const router of routers) {
    const prefix = router.opts.prefix ?? '';
    prefixes.add(prefix);
    const before: Koa.Middleware[] = [];
    for (const layer of router.stack) {
      if (!layer.methods.length) {
        before.push(...(layer.stack as Koa.Middleware[]));
        continue;
      }
      const path: unknown = layer.path;
      if (typeof path !== 'string') throw new Error(`bySegment: ${String(path)} is not a path`);
      if (!path.startsWith(`${prefix}/`)) throw new Error(`bySegment: ${path} is not below ${prefix}/`);
      const segment = path.slice(prefix.length + 1).split('/', 1)[0]!;
      if (!/^[\w.-]+$/.test(segment)) throw new Error(`bySegment: the first segment of ${path} must be literal`);
      const [handler, ...more] = layer.stack as Koa.Middleware[];
      if (!handler || more.length || handler.length > 1) throw new Error(`bySegment: ${path} must have one handler that takes no next`);
      // the chain, composed once: each path-less middleware's next is the rest of it
      const run = before.reduceRight<Koa.Middleware>((inner, mw) => (ctx, next) => mw(ctx, () => inner(ctx, next)), handler);
      const key = `${prefix}/${segment}`;
      table.set(key, [...(table.get(key) ?? []), { layer, methods: new Set(layer.methods), run }]);
    }
  }
  const byLength = [...prefixes].sort((a, b) => b.length - a.length);
  const dispatch = (routes: Dispatched[], ctx: Koa.Context, next: Koa.Next) => {
    const { path, method } = ctx;
    let matched: Layer[] | undefined;
    for (const route of routes) {
      const { layer } = route;
      if (!layer.regexp.test(path)) continue;
      if (!route.methods.has(method)) {
        (matched ??= []).push(layer);
        continue;
      }
      ctx.params = layer.paramNames.length ? layer.params(path, layer.captures(path)) : {};
      (ctx as { _matchedRoute?: string })._matchedRoute = layer.path as string;
      return route.run(ctx, next);
    }
    (ctx as { matched?: Layer[] }).matched = matched ?? [];
    return next();
  };
  return (ctx, next) => {
    const path = ctx.path;
    for (const prefix of byLength) {
      if (path.charCodeAt(prefix.length) !== 47 /* '/' */ || !path.startsWith(prefix)) continue;
      const end = path.indexOf('/', prefix.length + 1);
      const routes = table.get(end < 0 ? path : path.slice(0, end));
      if (routes) return dispatch(routes, ctx, next);
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

/** Bytes of the slab jsonBytes() writes answers into: a few dozen bill lists each. */
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/**
 * A JSON answer (or a realtime frame, the same bytes to every socket of a topic) as its UTF-8
 * bytes, encoded once. Koa given the text would measure its UTF-8 length
 * (a pass over it) and Node would then join the headers to it (a copy: the answers hold Chinese, so
 * a two-byte string) and encode the whole: 14–15 µs of node CPU of a bill list's ~350 (bench:ab).
 * Here the text is encoded straight into a shared slab, which gives its length, and the socket
 * writes the headers and these bytes together. Each answer gets bytes of the slab no other answer
 * gets (a new slab when this one is short); a slab is freed with the last answer that holds part of
 * it. An answer that could take more than a quarter of a slab gets a buffer of its own.
 */
export function jsonBytes(value: unknown): Buffer {
  const text = JSON.stringify(value);
  // a UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair: 4 bytes for 2 units)
  const most = text.length * 3;
  if (most > SLAB_BYTES / 4) return Buffer.from(text, 'utf8');
  if (SLAB_BYTES - slabUsed < most) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const written = slab.write(text, slabUsed, 'utf8');
  const bytes = slab.subarray(slabUsed, slabUsed + written);
  slabUsed += written;
  return bytes;
}
