/** Heating account (户号) numbers: what a resident types from their bill or payment card. */

/** 6-20 characters of digits and capital letters, after removing spaces and hyphens. */
export const ACCOUNT_NO_RE = /^[0-9A-Z]{6,20}$/;

export function normalizeAccountNo(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

export function isAccountNo(input: string): boolean {
  return ACCOUNT_NO_RE.test(normalizeAccountNo(input));
}

export const ACCOUNT_STATUSES = ['active', 'stopped', 'sealed', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export const ACCOUNT_STATUS_LABEL: Record<AccountStatus, string> = {
  active: '正常供热',
  stopped: '已报停',
  sealed: '已封阀',
  closed: '已销户',
};

export const ACCOUNT_USES = ['residential', 'commercial'] as const;
export type AccountUse = (typeof ACCOUNT_USES)[number];
export const ACCOUNT_USE_LABEL: Record<AccountUse, string> = { residential: '居民', commercial: '非居民' };

export const BINDING_RELATIONS = ['owner', 'family', 'tenant'] as const;
export type BindingRelation = (typeof BINDING_RELATIONS)[number];
export const BINDING_RELATION_LABEL: Record<BindingRelation, string> = { owner: '户主', family: '家属', tenant: '租户' };

export const MAX_BINDINGS_PER_RESIDENT = 10;

/** Format a heated area given in hundredths of m² (integer) as "89.50㎡". */
export function formatArea(centiSquareMeters: number): string {
  return `${(centiSquareMeters / 100).toFixed(2)}㎡`;
}
