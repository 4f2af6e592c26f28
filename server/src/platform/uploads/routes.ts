/// <reference path="../../types/koa-multer.d.ts" />
import Router from '@koa/router';
import type Koa from 'koa';
import multer from '@koa/multer';
import { UploadForm, type UploadPurpose, UploadsApi } from '@heat-butler/shared';
import { route } from '../http';
import { ANY_STAFF } from '../auth';
import { AppError, zodFields } from '../errors';
import type { Limiter } from '../limits';
import type { UploadsService } from './service';

/** what a resident may upload photos for (staff: any purpose) */
const RESIDENT_PURPOSES: readonly UploadPurpose[] = ['repair_photo', 'chat_photo', 'id_document'];

export function uploadsRoutes(uploads: UploadsService, limiter: Limiter): Router {
  const r = new Router();
  const single = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: uploads.maxBytes, files: 1, fields: 4, parts: 5, fieldSize: 1024 },
  }).single('file');

  /** The photo of a multipart/form-data body (field `file`), held in memory up to UPLOAD_MAX_KB. */
  async function receive(ctx: Koa.Context): Promise<Buffer> {
    if (!ctx.is('multipart/form-data')) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'file', message: '请以 multipart/form-data 上传照片' }] });
    // A body somewhat over the limit is read to its end (multer stops keeping it at the limit) so that
    // the phone gets the 413 answer rather than a reset connection; a far larger one is refused unread.
    if (Number(ctx.get('Content-Length') || 0) > uploads.maxBytes * 8) {
      ctx.set('Connection', 'close');
      throw new AppError('UPLOAD_TOO_LARGE', { maxBytes: uploads.maxBytes });
    }
    try {
      await single(ctx as any, async () => {});
    } catch (err: any) {
      if (err?.code === 'LIMIT_FILE_SIZE') throw new AppError('UPLOAD_TOO_LARGE', { maxBytes: uploads.maxBytes });
      throw new AppError('UPLOAD_INVALID');
    }
    const file = (ctx as any).file as { buffer: Buffer } | undefined;
    if (!file?.buffer?.length) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'file', message: '请选择照片' }] });
    return file.buffer;
  }

  route(r, { ...UploadsApi.upload, auth: ['resident', ...ANY_STAFF] }, async ({ ctx, principal }) => {
    // a resident's daily photo quota, counted before the body is read
    if (principal!.kind === 'resident') await limiter.take([{ limit: 'upload.resident', subject: principal!.residentId }]);
    const bytes = await receive(ctx);
    const form = UploadForm.safeParse((ctx.request as any).body ?? {});
    if (!form.success) throw new AppError('VALIDATION_FAILED', { fields: zodFields(form.error) });
    const owner =
      principal!.kind === 'resident' ? { kind: 'resident' as const, id: principal!.residentId } : { kind: 'staff' as const, id: principal!.staffId };
    if (owner.kind === 'resident' && !RESIDENT_PURPOSES.includes(form.data.purpose)) throw new AppError('FORBIDDEN');
    return uploads.store(owner, form.data.purpose, bytes);
  });

  // by signed link only (an <Image> sends no bearer header): whoever handed out the link checked access
  route(r, { ...UploadsApi.file, auth: 'public' }, async ({ ctx, query }) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (query.exp === undefined || !query.sig) throw new AppError('UPLOAD_LINK_EXPIRED');
    const file = await uploads.read(ctx.params.key ?? '', query.exp, query.sig);
    ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
    ctx.set('Content-Disposition', 'inline');
    ctx.set('Cache-Control', `private, max-age=${Math.max(0, file.exp - Math.floor(Date.now() / 1000))}`);
    ctx.type = file.mime;
    return file.body;
  });

  return r;
}
