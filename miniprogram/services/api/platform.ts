/** Subscription-message grants, the moderation trail. */
import { NotificationsApi, ModerationApi } from '@heat-butler/shared';
import { client } from './client';

export const notificationsApi = client(NotificationsApi);
export const moderationApi = client(ModerationApi);
