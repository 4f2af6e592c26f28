import { ACCOUNT_STATUS_LABEL, BINDING_RELATION_LABEL, formatArea, formatFen } from '@heat-butler/shared';

export { formatFen, formatArea, ACCOUNT_STATUS_LABEL, BINDING_RELATION_LABEL };
