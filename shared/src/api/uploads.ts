import { z } from 'zod';

/**
 * What a photo is for: decides who may see it (besides its owner), how long it is kept, and
 * which hooks run after it is stored (e.g. content moderation of chat photos).
 */
export const UPLOAD_PURPOSES = ['repair_photo', 'chat_photo', 'id_document', 'valve_photo', 'measurement_photo'] as const;
export type UploadPurpose = (typeof UPLOAD_PURPOSES)[number];

export const UPLOAD_PURPOSE_LABEL: Record<UploadPurpose, string> = {
  repair_photo: '报修照片',
  chat_photo: '管家群图片',
  id_document: '报停/复供材料',
  valve_photo: '阀门施工照片',
  measurement_photo: '测温照片',
};

/** The largest photo the mini-program sends (after compression); the server's limit is UPLOAD_MAX_KB. */
export const PHOTO_MAX_BYTES = 2 * 1024 * 1024;

/**
 * POST /api/v1/uploads, multipart/form-data: the photo in the field `file` (JPEG, PNG or WebP,
 * checked by its content), and these text fields.
 */
export const UploadForm = z.object({
  purpose: z.enum(UPLOAD_PURPOSES, '请说明照片用途'),
});

export interface UploadResponse {
  /** the upload key (up_…) to reference the photo in a repair, message, application… */
  id: string;
  /** a short-lived signed link to show it */
  url: string;
}
