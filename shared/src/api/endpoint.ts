/**
 * Route descriptors: the one typed description of an API route (method, path below /api/v1,
 * params / query / body schemas, success status and response type) that both sides read.
 * The server declares each route with `route(router, { ...Endpoint, auth }, handler)` (its handler
 * must return the declared response); the mini-program calls it through `services/api/<domain>.ts`
 * (functions generated from the same descriptors, with typed params, body, query and answer).
 */
import type { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * What a route answers: JSON of type T (`json<T>()`, or a zod schema), a file download
 * (`FILE`: an attachment the client saves, reached by URL), or nothing (`NONE`, 204).
 */
export interface Reply<T> {
  readonly kind: 'json' | 'file' | 'none';
  /** phantom: the answer's type, never set at runtime */
  readonly __type?: T;
}
/** The answer of a file route: bytes with a Content-Disposition, reached by URL (never parsed as JSON). */
export interface FileDownload {
  readonly __file: true;
}
export const json = <T>(): Reply<T> => ({ kind: 'json' });
export const FILE: Reply<FileDownload> = { kind: 'file' };
export const NONE: Reply<void> = { kind: 'none' };

export interface Endpoint {
  method: HttpMethod;
  /** the path below /api/v1, with `:name` parameters: '/groups/:id/messages' */
  path: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** success status (default 200; 204 when the handler returns nothing) */
  status?: number;
  response: Reply<unknown> | z.ZodType;
}

/** Declare a descriptor, keeping its literal method and path and its schema types. */
export function endpoint<const D extends Endpoint>(d: D): D {
  return d;
}

/** The answer's type of a descriptor. */
export type ResponseOf<D extends Endpoint> = D['response'] extends Reply<infer T> ? T : D['response'] extends z.ZodType ? z.output<D['response']> : unknown;

/** '/groups/:id/messages/:messageId' → 'id' | 'messageId' */
export type PathParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** The values a client puts into the path (numbers or strings, encoded on the way). */
export type PathParams<P extends string> = { [K in PathParamNames<P>]: string | number };

/** The path with its parameters filled in and encoded: fillPath('/bills/:billId', { billId: 7 }) → '/bills/7'. */
export function fillPath(path: string, params: Record<string, string | number> = {}): string {
  return path.replace(/:([A-Za-z_]\w*)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined || v === '') throw new Error(`missing path parameter ${name} for ${path}`);
    return encodeURIComponent(String(v));
  });
}

/** Every descriptor of a group ({ list: …, one: … }) as a list. */
export function endpointsOf(group: Record<string, Endpoint>): Endpoint[] {
  return Object.values(group);
}
