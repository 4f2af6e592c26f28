import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type Koa from 'koa';
import Router from '@koa/router';
import { AdminApi, chinaDate } from '@heat-butler/shared';
import { ANY_STAFF } from '../../platform/auth';
import { AppError } from '../../platform/errors';
import { route } from '../../platform/http';
import { formatOf } from './households';
import { actorOfStaff, type AdminService } from './service';

/** Uploads of household files: up to 64 MB (100,000 rows of XLSX is ~6 MB). */
export const IMPORT_MAX_BYTES = 64 * 1024 * 1024;
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Stream the request body to a temp file (never the whole file in memory). */
async function receiveFile(ctx: Koa.Context): Promise<{ file: string; bytes: number }> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > IMPORT_MAX_BYTES) throw new AppError('PAYLOAD_TOO_LARGE');
  const file = path.join(os.tmpdir(), `hb-import-${crypto.randomBytes(8).toString('hex')}`);
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      if (bytes > IMPORT_MAX_BYTES) cb(new AppError('PAYLOAD_TOO_LARGE'));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(ctx.req, limit, fs.createWriteStream(file));
  } catch (err) {
    await fs.promises.rm(file, { force: true });
    throw err;
  }
  if (!bytes) {
    await fs.promises.rm(file, { force: true });
    throw new AppError('IMPORT_FILE_INVALID');
  }
  return { file, bytes };
}

function attachment(ctx: Koa.Context, name: string, body: Buffer | Readable) {
  ctx.set('Content-Disposition', `attachment; filename="${encodeURIComponent(name)}"; filename*=UTF-8''${encodeURIComponent(name)}`);
  ctx.type = XLSX_TYPE;
  ctx.body = body;
  return body;
}

/** today's China date, for export file names */
const stamp = () => chinaDate(new Date());

export function adminRoutes(admin: AdminService): Router {
  const r = new Router();
  const ADMIN = ['admin'] as const;

  // ---- household import ----
  route(r, { ...AdminApi.importTemplate, auth: ADMIN }, async ({ ctx }) => attachment(ctx, '住户导入模板.xlsx', await admin.template()));

  // the file is the raw body (XLSX or CSV); answers 202 with the job to poll
  route(r, { ...AdminApi.startImport, auth: ADMIN }, async ({ ctx, query, staff }) => {
    const { file } = await receiveFile(ctx);
    try {
      const format = formatOf(file);
      const job = await admin.imports.createJob({ fileName: query.fileName ?? `upload.${format}`, format, dryRun: query.dryRun, createdBy: staff().staffId });
      admin.imports.start(job.id, file, actorOfStaff(staff()));
      return admin.imports.view(job.id, 0);
    } catch (err) {
      await fs.promises.rm(file, { force: true });
      throw err;
    }
  });

  route(r, { ...AdminApi.imports, auth: ADMIN }, async () => ({ items: await admin.imports.jobs() }));
  route(r, { ...AdminApi.importJob, auth: ADMIN }, ({ params }) => admin.imports.view(params.id));
  route(r, { ...AdminApi.importReport, auth: ADMIN }, async ({ params, ctx }) => {
    await admin.imports.view(params.id, 0);
    return attachment(ctx, `导入问题-${params.id}.xlsx`, await admin.importReport(params.id));
  });

  // ---- exports (finance reads them too) ----
  route(r, { ...AdminApi.exportAccounts, auth: ADMIN }, async ({ ctx }) => attachment(ctx, `住户-${stamp()}.xlsx`, await admin.exportAccounts()));
  route(r, { ...AdminApi.exportBills, auth: ['admin', 'finance'] }, async ({ ctx, query }) =>
    attachment(ctx, `账单-${query.season ?? '全部'}.xlsx`, await admin.exportBills(query.season)),
  );
  route(r, { ...AdminApi.exportPayments, auth: ['admin', 'finance'] }, async ({ ctx, query }) =>
    attachment(ctx, `缴费-${query.from}-${query.to}.xlsx`, await admin.exportPayments(query.from, query.to)),
  );

  // ---- staff and areas ----
  route(r, { ...AdminApi.staff, auth: ADMIN }, async () => ({ items: await admin.listStaff() }));
  route(r, { ...AdminApi.createStaff, auth: ADMIN }, ({ body, staff }) => admin.createStaff(actorOfStaff(staff()), body));
  route(r, { ...AdminApi.updateStaff, auth: ADMIN }, ({ params, body, staff }) => admin.updateStaff(actorOfStaff(staff()), params.id, body));
  route(r, { ...AdminApi.disableStaff, auth: ADMIN }, ({ params, staff }) => admin.disableStaff(actorOfStaff(staff()), params.id));
  route(r, { ...AdminApi.unlockStaff, auth: ADMIN }, ({ params, staff }) => admin.unlockStaff(actorOfStaff(staff()), params.id));
  route(r, { ...AdminApi.inviteStaff, auth: ADMIN }, ({ params, staff }) => admin.invite({ ...actorOfStaff(staff()), staffId: staff().staffId }, params.id));

  route(r, { ...AdminApi.areas, auth: ADMIN }, async () => ({ items: await admin.areas() }));
  route(r, { ...AdminApi.createArea, auth: ADMIN }, ({ body, staff }) => admin.createArea(actorOfStaff(staff()), body));
  route(r, { ...AdminApi.renameArea, auth: ADMIN }, ({ params, body, staff }) => admin.renameArea(actorOfStaff(staff()), params.id, body.name));

  // ---- settings and audit ----
  route(r, { ...AdminApi.settings, auth: ADMIN }, () => admin.settings());
  route(r, { ...AdminApi.updateSettings, auth: ADMIN }, ({ body, staff }) => admin.updateSettings(actorOfStaff(staff()), body));
  route(r, { ...AdminApi.audit, auth: ADMIN }, ({ query }) => admin.auditLog(query));

  // ---- staff home ----
  route(r, { ...AdminApi.dashboard, auth: ANY_STAFF }, ({ staff }) => admin.dashboard(staff()));

  return r;
}
