import type { Principal, StaffRole } from '@heat-butler/shared';
import { AppError } from './errors';
import type { Actor } from './state';

export type AuthPrincipal =
  | { kind: 'resident'; residentId: number; sessionId: number; openid: string }
  | { kind: 'staff'; staffId: number; sessionId: number; name: string; roles: StaffRole[]; areaIds: number[] };

export type StaffPrincipal = Extract<AuthPrincipal, { kind: 'staff' }>;
export type ResidentPrincipal = Extract<AuthPrincipal, { kind: 'resident' }>;

/** Every staff role: for routes any staff member may call. */
export const ANY_STAFF: readonly Principal[] = ['agent', 'butler', 'dispatcher', 'worker', 'station', 'finance', 'admin'];

export function principalNames(p: AuthPrincipal): string[] {
  return p.kind === 'resident' ? ['resident'] : [...p.roles];
}

export function isAllowed(p: AuthPrincipal | null, allowed: 'public' | readonly Principal[]): boolean {
  if (allowed === 'public') return true;
  if (!p) return false;
  return principalNames(p).some((n) => (allowed as readonly string[]).includes(n));
}

export function actorOf(p: AuthPrincipal): Actor {
  return p.kind === 'resident' ? { kind: 'resident', id: p.residentId, as: ['resident'] } : { kind: 'staff', id: p.staffId, as: p.roles };
}

/** Staff scope: admins see every area; everyone else only the areas they serve. */
export function staffAreaFilter(p: StaffPrincipal): number[] | 'all' {
  return p.roles.includes('admin') ? 'all' : p.areaIds;
}

export function assertStaffArea(p: StaffPrincipal, areaId: number): void {
  const scope = staffAreaFilter(p);
  if (scope !== 'all' && !scope.includes(areaId)) throw new AppError('NOT_FOUND');
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+([A-Za-z0-9_\-]{20,200})$/.exec(header.trim());
  return m ? m[1] : null;
}
