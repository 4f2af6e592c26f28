/** 报停/复供 applications and valve work orders. */
import { ServiceChangesApi } from '@heat-butler/shared';
import { client } from './client';

export const serviceChangesApi = client(ServiceChangesApi);
