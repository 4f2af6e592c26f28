/** Daily reconciliation against WeChat Pay trade bills. */
import { ReconciliationApi } from '@heat-butler/shared';
import { client } from './client';

export const reconciliationApi = client(ReconciliationApi);
