export const STAFF_ROLES = ['agent', 'butler', 'dispatcher', 'worker', 'station', 'finance', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
export const STAFF_ROLE_LABEL: Record<StaffRole, string> = {
  agent: '客服',
  butler: '管家',
  dispatcher: '调度',
  worker: '维修工',
  station: '换热站',
  finance: '财务',
  admin: '管理员',
};
/** Who may call a route: a resident, or staff with one of the roles. */
export type Principal = 'resident' | StaffRole;
