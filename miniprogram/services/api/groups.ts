/** Building groups, the staff inbox, standard replies, notes and announcements. */
import { GroupsApi } from '@heat-butler/shared';
import { client } from './client';

export const groupsApi = client(GroupsApi);
