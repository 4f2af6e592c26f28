/**
 * Client functions generated from the shared route descriptors: `client(BillingApi).bill({ billId })`
 * calls GET /api/v1/bills/:billId and answers the descriptor's response type. Arguments, in order:
 * the path's parameters (when it has any), the body (when the route takes one), the query (when it
 * takes one, optional), then the request options. A file route (an XLSX export) gives the path to
 * download instead (services/download.ts).
 */
import { fillPath, type Endpoint, type FileDownload, type PathParamNames, type PathParams, type ResponseOf } from '@heat-butler/shared';
import type { z } from 'zod';
import { queryString, request, type RequestOptions } from './http';

export const API_PREFIX = '/api/v1';

export type CallOptions = Pick<RequestOptions, 'quiet' | 'anonymous'>;

type Input<S> = S extends z.ZodType ? z.input<S> : never;
type QueryValue = string | number | undefined;
type ParamsArg<D extends Endpoint> = [PathParamNames<D['path']>] extends [never] ? [] : [params: PathParams<D['path']>];
type BodyArg<D extends Endpoint> = D extends { body: z.ZodType } ? [body: Input<D['body']>] : [];
type QueryArg<D extends Endpoint> = D extends { query: z.ZodType } ? [query?: { [K in keyof Input<D['query']>]?: QueryValue }] : [];

/** The arguments of a descriptor's client function. */
export type CallArgs<D extends Endpoint> = [...ParamsArg<D>, ...BodyArg<D>, ...QueryArg<D>, opts?: CallOptions];
type DownloadArgs<D extends Endpoint> = [...ParamsArg<D>, ...QueryArg<D>];

/** One client function per descriptor of a group; a file route's function gives its path. */
export type Client<G extends Record<string, Endpoint>> = {
  [K in keyof G]: ResponseOf<G[K]> extends FileDownload ? (...args: DownloadArgs<G[K]>) => string : (...args: CallArgs<G[K]>) => Promise<ResponseOf<G[K]>>;
};

const hasParams = (d: Endpoint) => /:[A-Za-z_]/.test(d.path);
const isFile = (d: Endpoint) => (d.response as { kind?: string }).kind === 'file';

/** Call one described route. */
export async function call<D extends Endpoint>(d: D, ...args: CallArgs<D>): Promise<ResponseOf<D>> {
  let i = 0;
  const params = hasParams(d) ? (args[i++] as Record<string, string | number>) : undefined;
  const body = d.body ? args[i++] : undefined;
  const query = d.query ? (args[i++] as Record<string, QueryValue> | undefined) : undefined;
  const opts = (args[i] as CallOptions | undefined) ?? {};
  const method = d.method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  return request<ResponseOf<D>>(method, API_PREFIX + fillPath(d.path, params), { ...opts, body, query });
}

/** The path (below the API base) of a file route, to download with the session token. */
export function pathOf<D extends Endpoint>(d: D, ...args: DownloadArgs<D>): string {
  const params = hasParams(d) ? (args[0] as Record<string, string | number>) : undefined;
  const query = (hasParams(d) ? args[1] : args[0]) as Record<string, QueryValue> | undefined;
  return API_PREFIX + fillPath(d.path, params) + queryString(query);
}

/** The client functions of a group of descriptors. */
export function client<G extends Record<string, Endpoint>>(group: G): Client<G> {
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(group)) {
    out[name] = isFile(d)
      ? (...args: unknown[]) => (pathOf as (d: Endpoint, ...a: unknown[]) => string)(d, ...args)
      : (...args: unknown[]) => (call as (d: Endpoint, ...a: unknown[]) => Promise<unknown>)(d, ...args);
  }
  return out as Client<G>;
}
