import { z } from 'zod';
import { endpoint, FILE, json } from '../api/endpoint';
import { PageQuery, type Page } from '../api/common';
import { SubscribeGrantReport, type SubscribeGrantCounts, type SubscribeTemplateIds } from '../notifications';
import type { ModerationItem } from '../moderation';
import type { UploadResponse } from '../api/uploads';

/** Subscription messages: the template ids to ask for, the grants WeChat answered. */
export const NotificationsApi = {
  templates: endpoint({ method: 'get', path: '/notifications/templates', response: json<SubscribeTemplateIds>() }),
  reportGrants: endpoint({ method: 'post', path: '/notifications/grants', body: SubscribeGrantReport, response: json<SubscribeGrantCounts>() }),
  grants: endpoint({ method: 'get', path: '/notifications/grants', response: json<SubscribeGrantCounts>() }),
};

export const ModerationQuery = PageQuery.extend({ flagged: z.enum(['0', '1']).optional() });

/** The content-security trail staff see. */
export const ModerationApi = {
  list: endpoint({ method: 'get', path: '/staff/moderation', query: ModerationQuery, response: json<Page<ModerationItem>>() }),
};

export const UploadLinkQuery = z.object({ exp: z.coerce.number().int().optional(), sig: z.string().max(100).optional() });

/** Photos: one multipart upload (field `file` + `purpose`), read back by signed link. */
export const UploadsApi = {
  upload: endpoint({ method: 'post', path: '/uploads', status: 201, response: json<UploadResponse>() }),
  file: endpoint({ method: 'get', path: '/uploads/:key', query: UploadLinkQuery, response: FILE }),
};
