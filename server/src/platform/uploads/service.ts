import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { In, IsNull, LessThan, type DataSource, type EntityManager } from 'typeorm';
import type { UploadPurpose, UploadResponse } from '@heat-butler/shared';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { LinkSigner } from '../signed-links';
import { checkImage } from './image-check';
import { Upload } from './entities';

export interface UploadOwner {
  kind: 'resident' | 'staff';
  id: number;
}

/** Days a photo is kept, by purpose (company settings `retention.*`). */
export interface RetentionRules {
  photoDays: number;
  documentDays: number;
}

export interface UploadsOptions {
  ds: DataSource;
  log: Logger;
  clock: () => Date;
  /** UPLOAD_DIR */
  dir: string;
  /** UPLOAD_MAX_KB × 1024 */
  maxBytes: number;
  links: LinkSigner;
  retention: () => Promise<RetentionRules>;
}

const KEY = /^up_[a-f0-9]{32}$/;
/** links live 15–20 minutes; the expiry is rounded to 5 minutes so repeated views give the same URL */
const LINK_TTL_SECONDS = 15 * 60;
const LINK_ROUND_SECONDS = 5 * 60;
/** an upload nobody referenced is removed after this long */
const ORPHAN_HOURS = 24;

export const isUploadKey = (ref: string) => KEY.test(ref);

/**
 * Uploaded photos as a platform piece: stored with owner and purpose after their content is
 * checked, referenced by modules through `claim`, shown through short-lived signed links that
 * the modules' views hand out after their own access checks, removed by the retention job.
 */
export class UploadsService {
  constructor(private readonly o: UploadsOptions) {}

  get maxBytes(): number {
    return this.o.maxBytes;
  }

  async store(owner: UploadOwner, purpose: UploadPurpose, raw: Buffer): Promise<UploadResponse> {
    if (raw.length > this.o.maxBytes) throw new AppError('UPLOAD_TOO_LARGE', { maxBytes: this.o.maxBytes });
    const image = checkImage(raw);
    if (!image) throw new AppError('UPLOAD_INVALID');
    const bytes = image.bytes;
    const key = 'up_' + crypto.randomBytes(16).toString('hex');
    const file = this.file(key);
    await fs.promises.mkdir(this.o.dir, { recursive: true });
    await fs.promises.writeFile(file, bytes, { mode: 0o600 });
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    try {
      await this.o.ds
        .getRepository(Upload)
        .insert({ key, mime: image.mime, bytes: bytes.length, sha256, ownerKind: owner.kind, ownerId: owner.id, purpose, attachedAt: null });
    } catch (err) {
      await fs.promises.rm(file, { force: true });
      throw err;
    }
    return { id: key, url: this.link(key) };
  }

  /**
   * The URL to show a photo reference: a signed, short-lived link for an upload key, an http(s)
   * URL as it is. Call it only after checking that the viewer may see the object holding the photo.
   */
  link(ref: string, ttlSeconds = LINK_TTL_SECONDS): string {
    if (!isUploadKey(ref)) return ref;
    return `/api/v1/uploads/${ref}?${this.o.links.query(`upload:${ref}`, ttlSeconds, LINK_ROUND_SECONDS)}`;
  }

  /** The bytes behind a signed link (UPLOAD_LINK_EXPIRED for a bad or expired signature). */
  async read(key: string, exp: number, sig: string): Promise<{ mime: string; body: Buffer; exp: number }> {
    if (!isUploadKey(key)) throw new AppError('UPLOAD_NOT_FOUND');
    if (!this.o.links.verify(`upload:${key}`, exp, sig)) throw new AppError('UPLOAD_LINK_EXPIRED');
    const row = await this.o.ds.getRepository(Upload).findOneBy({ key });
    if (!row) throw new AppError('UPLOAD_NOT_FOUND');
    const body = await fs.promises.readFile(this.file(key)).catch(() => null);
    if (!body) throw new AppError('UPLOAD_NOT_FOUND');
    return { mime: row.mime, body, exp };
  }

  /**
   * A module references photos (a repair's, a message's, an application's): every upload key among
   * the refs must be the owner's own upload for one of these purposes. Marks them attached.
   */
  async claim(refs: string[], owner: UploadOwner, purposes: readonly UploadPurpose[], field = 'photos', em?: EntityManager): Promise<void> {
    const keys = [...new Set(refs.filter(isUploadKey))];
    if (refs.some((r) => r.startsWith('up_') && !isUploadKey(r))) throw invalid(field);
    if (!keys.length) return;
    const repo = (em ?? this.o.ds.manager).getRepository(Upload);
    const rows = await repo.find({ where: { key: In(keys), ownerKind: owner.kind, ownerId: owner.id, purpose: In([...purposes]) } });
    if (rows.length !== keys.length) throw invalid(field);
    const fresh = rows.filter((r) => !r.attachedAt).map((r) => r.id);
    if (fresh.length) await repo.update({ id: In(fresh) }, { attachedAt: this.o.clock() });
  }

  /**
   * The retention job: removes files and rows of photos older than the company's rule for their
   * purpose (ID documents by `documentDays`, every other photo by `photoDays`) and uploads that
   * nothing referenced within a day. Returns how many were removed.
   */
  async enforceRetention(batch = 500): Promise<{ deleted: number }> {
    const rules = await this.o.retention();
    const now = this.o.clock().getTime();
    const day = 86_400_000;
    const repo = this.o.ds.getRepository(Upload);
    const photoPurposes: UploadPurpose[] = ['repair_photo', 'chat_photo', 'valve_photo', 'measurement_photo'];
    const due = [
      { purpose: In(photoPurposes), createdAt: LessThan(new Date(now - rules.photoDays * day)) },
      { purpose: 'id_document' as const, createdAt: LessThan(new Date(now - rules.documentDays * day)) },
      { attachedAt: IsNull(), createdAt: LessThan(new Date(now - ORPHAN_HOURS * 3_600_000)) },
    ];
    let deleted = 0;
    for (;;) {
      const rows = await repo.find({ where: due, order: { id: 'ASC' }, take: batch });
      if (!rows.length) break;
      for (const row of rows) await fs.promises.rm(this.file(row.key), { force: true });
      await repo.delete({ id: In(rows.map((r) => r.id)) });
      deleted += rows.length;
      if (rows.length < batch) break;
    }
    if (deleted) this.o.log.info({ deleted }, 'upload retention');
    return { deleted };
  }

  private file(key: string): string {
    return path.join(this.o.dir, key);
  }
}

function invalid(field: string): AppError {
  return new AppError('VALIDATION_FAILED', { fields: [{ field, message: '照片不存在或已过期，请重新上传' }] });
}
