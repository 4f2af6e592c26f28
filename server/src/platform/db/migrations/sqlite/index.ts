// Kept by `npm run db:generate`: the committed migrations, oldest first.
import { Foundation1795530466707 } from './1795530466707-Foundation';
import { BillsAndPayments1795610507041 } from './1795610507041-BillsAndPayments';
import { ModulesRepairsGroupsChangesReconInvoices1795611559979 } from './1795611559979-ModulesRepairsGroupsChangesReconInvoices';
import { AdminImportAudit1795613021663 } from './1795613021663-AdminImportAudit';
import { ImportHeartbeat1795615448951 } from './1795615448951-ImportHeartbeat';
import { UploadsPlatform1795849485918 } from './1795849485918-UploadsPlatform';
import { SubscribeGrants1795849539979 } from './1795849539979-SubscribeGrants';
import { StableAccessToken1795849759969 } from './1795849759969-StableAccessToken';
import { RateCounter1795849775378 } from './1795849775378-RateCounter';
import { ContentSecurity1795850582734 } from './1795850582734-ContentSecurity';
import { ReconStreaming1795860294721 } from './1795860294721-ReconStreaming';
import { InboxConversations1795860461608 } from './1795860461608-InboxConversations';
import { JobLease1795860462330 } from './1795860462330-JobLease';
import { PayAll1795870000020 } from './1795870000020-PayAll';
import { Complaints1795871000010 } from './1795871000010-Complaints';
import { RepairClocks1795872000040 } from './1795872000040-RepairClocks';
import { InvoiceRetitle1795874000070 } from './1795874000070-InvoiceRetitle';
import { MeasurementDay1795875000080 } from './1795875000080-MeasurementDay';
import { RepairColdFixIndex1795909387776 } from './1795909387776-RepairColdFixIndex';
import { ReconDayCounts1795937251307 } from './1795937251307-ReconDayCounts';
import { ReconDiscrepancyKey1795957483854 } from './1795957483854-ReconDiscrepancyKey';

export const migrations: Function[] = [Foundation1795530466707, BillsAndPayments1795610507041, ModulesRepairsGroupsChangesReconInvoices1795611559979, AdminImportAudit1795613021663, ImportHeartbeat1795615448951, UploadsPlatform1795849485918, SubscribeGrants1795849539979, StableAccessToken1795849759969, RateCounter1795849775378, ContentSecurity1795850582734, ReconStreaming1795860294721, InboxConversations1795860461608, JobLease1795860462330, PayAll1795870000020, Complaints1795871000010, RepairClocks1795872000040, InvoiceRetitle1795874000070, MeasurementDay1795875000080, RepairColdFixIndex1795909387776, ReconDayCounts1795937251307, ReconDiscrepancyKey1795957483854];
