import type Koa from 'koa';
import { ERRORS, type ErrorBody, type ErrorCode, type FieldIssue } from '@heat-butler/shared';
import { ZodError } from 'zod';
import type { Logger } from './logger';
import { isUniqueViolation } from './db/data-source';

/** A failure the user should see: a stable code from the shared catalogue, optional details. */
export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    public readonly details?: unknown,
    message?: string,
  ) {
    super(message ?? code);
  }
  /** A message for the user instead of the catalogue's (e.g. when to retry, with the hotline). */
  userMessage?: string;

  get status(): number {
    return ERRORS[this.code].status;
  }

  say(message: string): this {
    this.userMessage = message;
    return this;
  }
}

export function fail(code: ErrorCode, details?: unknown): never {
  throw new AppError(code, details);
}

/** Zod issues -> every invalid field at once, with Chinese messages. */
export function zodFields(error: ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || prefix || '(root)',
    message: i.message,
    // a custom check may say more (e.g. a tax id the user may confirm): passed on as is
    ...(i.code === 'custom' && (i as any).params ? { params: (i as any).params } : {}),
  }));
}

/** Driver error codes meaning "the database is unreachable, too slow or locked": 503, try again. */
const DB_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT', // mysql2: the server did not answer a statement in time
  'DB_ACQUIRE_TIMEOUT', // no pool connection in time (platform/db/limits.ts)
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ER_CON_COUNT_ERROR',
  'ECONNRESET',
  'POOL_CLOSED',
  'SQLITE_BUSY', // embedded SQLite: another writer held the database past busy_timeout
]);
/** MySQL/MariaDB error numbers of the same kind (MariaDB's own are missing from mysql2's code table). */
const DB_DOWN_ERRNOS = new Set([
  1053, // server shutdown in progress
  1205, // lock wait timeout
  1317, // query interrupted (KILL QUERY)
  1927, // MariaDB: connection was killed
  1969, // MariaDB: max_statement_time exceeded
  2006, // server has gone away
  2013, // lost connection during query
  3024, // MySQL: max_execution_time exceeded
  4031, // MySQL: disconnected by the server (inactivity)
]);

export function isDbUnavailable(err: unknown): boolean {
  let e: any = err;
  for (let i = 0; e && i < 4; i++, e = e.driverError ?? e.cause) {
    if (DB_DOWN_CODES.has(e.code) || DB_DOWN_ERRNOS.has(e.errno)) return true;
    if (/Pool is closed|Connection lost|connect ECONNREFUSED|Can't add new command when connection is in closed state/i.test(String(e.message))) return true;
  }
  return false;
}

/**
 * What an error may put in a log line: its class, code and the first line of its message, never
 * a statement's SQL or parameters (TypeORM's QueryFailedError carries both, and the message of a
 * duplicate-key error quotes the value).
 */
export function errorSummary(err: unknown): { name?: string; code?: string; errno?: number; message: string } {
  const e: any = err;
  const driver: any = e?.driverError ?? e;
  const sqlError = !!e?.driverError || driver?.sqlMessage !== undefined || driver?.sqlState !== undefined;
  return {
    name: e?.constructor?.name,
    code: driver?.code ?? e?.code,
    errno: typeof driver?.errno === 'number' ? driver.errno : undefined,
    // a database's message may quote the values written (Duplicate entry '…'): keep only its kind
    message: sqlError
      ? 'database error'
      : String(e?.message ?? e)
          .split('\n')[0]!
          .slice(0, 200),
  };
}

/** Where an error was thrown: the stack's frames only (its first line repeats the message). */
export function stackFrames(err: unknown): string | undefined {
  const stack = (err as any)?.stack;
  if (typeof stack !== 'string') return undefined;
  return stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 8)
    .map((l) => l.trim())
    .join(' | ');
}

function toBody(code: ErrorCode, details: unknown, requestId: string | undefined, message?: string): ErrorBody {
  const body: ErrorBody = { error: { code, message: message ?? ERRORS[code].message } };
  if (details !== undefined) body.error.details = details;
  if (requestId) body.error.requestId = requestId;
  return body;
}

const UNANSWERED: Partial<Record<number, ErrorCode>> = { 404: 'ROUTE_NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 501: 'METHOD_NOT_ALLOWED' };

/**
 * What no route answered, in the API's error shape: no such path, or a path asked with a method it
 * doesn't take (the router's 405 with its Allow header; 501 for a method no route takes anywhere).
 * The app's first middleware calls this after the rest have run, and answerError for what they threw.
 */
export function answerUnanswered(ctx: Koa.Context): void {
  const unanswered = ctx.body === undefined ? UNANSWERED[ctx.status] : undefined;
  if (unanswered) {
    ctx.status = ERRORS[unanswered].status;
    ctx.body = toBody(unanswered, undefined, ctx.state.requestId);
  }
}

/** The one error answer: JSON shape, stable code, Chinese message, never a stack trace. */
export function answerError(ctx: Koa.Context, err: any): void {
  const log: Logger | undefined = ctx.state.log;
  let code: ErrorCode;
  let details: unknown;
  let message: string | undefined;
  if (err instanceof AppError) {
    code = err.code;
    details = err.details;
    message = err.userMessage;
  } else if (err instanceof ZodError) {
    code = 'VALIDATION_FAILED';
    details = { fields: zodFields(err) };
  } else if (err?.type === 'entity.too.large' || err?.status === 413) {
    code = 'PAYLOAD_TOO_LARGE';
  } else if (err?.type === 'entity.parse.failed' || err?.status === 400) {
    // the body parser's "invalid JSON" (it sets no type)
    code = 'MALFORMED_JSON';
  } else if (err?.status === 415) {
    code = 'VALIDATION_FAILED';
    details = { fields: [{ field: '(body)', message: '请求内容类型应为 application/json' }] };
  } else if (isUniqueViolation(err)) {
    // a duplicate no module turned into its own code (those say which field): a 409, not a 500
    code = 'CONFLICT';
    log?.warn({ error: errorSummary(err) }, 'unhandled unique violation');
  } else if (isDbUnavailable(err)) {
    code = 'DB_UNAVAILABLE';
    log?.error({ error: errorSummary(err) }, 'database unavailable');
  } else {
    code = 'INTERNAL';
    log?.error({ error: errorSummary(err), stack: stackFrames(err) }, 'unhandled error');
  }
  ctx.status = ERRORS[code].status;
  ctx.body = toBody(code, details, ctx.state.requestId, message);
  if (code === 'DB_UNAVAILABLE') ctx.set('Retry-After', '5');
  if (ctx.status === 429) {
    const retry = (details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    if (retry) ctx.set('Retry-After', String(retry));
  }
}
