/** Complaints (投诉) and the watch program's tasks and hazard ledger. */
import { ComplaintsApi, WatchApi } from '@heat-butler/shared';
import { client } from './client';

export const complaintsApi = client(ComplaintsApi);
export const watchApi = client(WatchApi);
