/** Company administration and the staff dashboard. */
import { AdminApi } from '@heat-butler/shared';
import { client } from './client';

export const adminApi = client(AdminApi);
