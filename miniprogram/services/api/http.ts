/**
 * The transport under the typed API client (client.ts): base URL, bearer token from storage,
 * the one error shape → ApiError with the server's Chinese message (shown as a toast unless the
 * caller opts out), single-flight re-login on an expired session, retries of GETs on network loss.
 */
import Taro from '@tarojs/taro';
import { ERRORS, type ErrorBody, type ErrorCode, type FieldIssue } from '@heat-butler/shared';

const TOKEN_KEY = 'hb.token';
const KIND_KEY = 'hb.kind';

export class ApiError extends Error {
  constructor(
    public readonly code: ErrorCode | 'NETWORK',
    message: string,
    public readonly status: number,
    public readonly details?: any,
  ) {
    super(message);
  }
  /** field -> message, for forms */
  get fields(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of (this.details?.fields ?? []) as FieldIssue[]) if (!out[f.field]) out[f.field] = f.message;
    return out;
  }
  /** for a form: its fields' messages, or the whole error's under `form` when no field is named */
  get formErrors(): Record<string, string> {
    const f = this.fields;
    return Object.keys(f).length ? f : { form: this.message };
  }
}

export function getToken(): string | null {
  return Taro.getStorageSync(TOKEN_KEY) || null;
}
export function getSessionKind(): 'resident' | 'staff' | null {
  return Taro.getStorageSync(KIND_KEY) || null;
}
export function setSession(token: string, kind: 'resident' | 'staff'): void {
  Taro.setStorageSync(TOKEN_KEY, token);
  Taro.setStorageSync(KIND_KEY, kind);
}
export function clearSession(): void {
  Taro.removeStorageSync(TOKEN_KEY);
  Taro.removeStorageSync(KIND_KEY);
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** don't show the error toast (the page shows the error itself) */
  quiet?: boolean;
  /** don't attach the session token */
  anonymous?: boolean;
}

/** How to log in again after the session of this kind expired; true = retry the request. */
type Relogin = (kind: 'resident' | 'staff' | null) => Promise<boolean>;
let relogin: Relogin | null = null;
let reloginInflight: Promise<boolean> | null = null;
/** The session module registers how to log in again (WeChat silently, or the H5 login page). */
export function onSessionExpired(fn: Relogin): void {
  relogin = fn;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `?a=1&b=x` from the set values (undefined and '' are left out), or '' when none is set. */
export function queryString(query: RequestOptions['query']): string {
  const q = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  return q ? `?${q}` : '';
}

const buildUrl = (path: string, query?: RequestOptions['query']) => `${API_BASE}${path}${queryString(query)}`;

async function send(method: string, path: string, opts: RequestOptions): Promise<{ statusCode: number; data: any }> {
  const token = opts.anonymous ? null : getToken();
  const header: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) header.Authorization = `Bearer ${token}`;
  const attempts = method === 'GET' ? 3 : 1;
  for (let i = 0; ; i++) {
    try {
      const res = await Taro.request({
        url: buildUrl(path, opts.query),
        method: method as any,
        data: opts.body as any,
        header,
        dataType: 'json',
        timeout: 15_000,
      });
      return { statusCode: res.statusCode, data: res.data };
    } catch (err) {
      if (i + 1 >= attempts) throw new ApiError('NETWORK', '网络异常，请检查网络后重试', 0, { cause: String((err as any)?.errMsg ?? err) });
      await sleep(400 * 2 ** i);
    }
  }
}

export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, opts: RequestOptions = {}): Promise<T> {
  // the kind of session this request went out with (a parallel 401 may have cleared it since)
  const kind = getSessionKind();
  let res = await send(method, path, opts).catch((e: ApiError) => {
    if (!opts.quiet) Taro.showToast({ title: e.message, icon: 'none', duration: 2500 });
    throw e;
  });
  const code: string | undefined = (res.data as ErrorBody | undefined)?.error?.code;
  if (res.statusCode === 401 && (code === 'SESSION_EXPIRED' || code === 'UNAUTHENTICATED') && !opts.anonymous && relogin) {
    clearSession();
    reloginInflight ??= relogin(kind).finally(() => (reloginInflight = null));
    if (await reloginInflight) res = await send(method, path, opts);
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res.data as T;
  const body = res.data as ErrorBody | undefined;
  // no JSON error (a proxy's HTML page): say what the status means, from the catalogue
  const fallback: ErrorCode = res.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : res.statusCode === 429 ? 'RATE_LIMITED' : 'INTERNAL';
  const errCode = (body?.error?.code ?? fallback) as ErrorCode;
  const error = new ApiError(errCode, body?.error?.message ?? ERRORS[errCode]?.message ?? ERRORS[fallback].message, res.statusCode, body?.error?.details);
  if (!opts.quiet) Taro.showToast({ title: error.message, icon: 'none', duration: 2500 });
  throw error;
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
};
