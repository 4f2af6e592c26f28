/**
 * Logging in. In WeChat: Taro.login → code → BFF. In the H5 build WeChat doesn't exist: the
 * sandbox login page plays wx.login against the local WeChat simulator (/sandbox/device/login).
 */
import Taro from '@tarojs/taro';
import type { LoginResponse, MeResponse, StaffRole } from '@heat-butler/shared';
import { api, clearSession, getSessionKind, getToken, onSessionExpired, setSession } from './api';
import { identityApi } from './api/identity';
import { nav, PAGES } from './pages';
import { stopAllLive } from './realtime';

export const IS_H5 = process.env.TARO_ENV === 'h5';

export async function loginWithCode(code: string): Promise<LoginResponse> {
  const res = await identityApi.wechatLogin({ code }, { anonymous: true });
  setSession(res.token, 'resident');
  return res;
}

/** In WeChat: a silent login. */
export async function wechatLogin(): Promise<LoginResponse> {
  const { code } = await Taro.login();
  return loginWithCode(code);
}

/** H5 sandbox: the simulator issues a code for a demo WeChat user, then the normal login. */
export async function sandboxLogin(user: string): Promise<LoginResponse> {
  const { code } = await api.post<{ code: string }>('/sandbox/device/login', { user }, { anonymous: true });
  // the sandbox payment sheet pays as this WeChat user
  Taro.setStorageSync('hb.sandboxUser', user);
  return loginWithCode(code);
}

export async function staffLogin(username: string, password: string): Promise<LoginResponse> {
  const res = await identityApi.staffLogin({ username, password }, { anonymous: true, quiet: true });
  setSession(res.token, 'staff');
  await staffRoles(); // known before the first staff page opens (staffPage checks them)
  return res;
}

/** A wx.login code: WeChat's in the mini-program, the simulator's (as the sandbox user) in H5. */
async function loginCode(): Promise<string> {
  if (!IS_H5) return (await Taro.login()).code;
  const user = Taro.getStorageSync('hb.sandboxUser') || 'demo-staff';
  return (await api.post<{ code: string }>('/sandbox/device/login', { user }, { anonymous: true })).code;
}

/** Staff whose WeChat is bound log in with one tap. */
export async function staffWechatLogin(): Promise<LoginResponse> {
  const res = await identityApi.staffWechatLogin({ code: await loginCode() }, { anonymous: true, quiet: true });
  setSession(res.token, 'staff');
  await staffRoles(); // known before the first staff page opens (staffPage checks them)
  return res;
}

/** First time: bind this WeChat to the staff account the admin's invite code names. */
export async function staffBindWechat(inviteCode: string): Promise<LoginResponse> {
  const res = await identityApi.staffBindWechat({ code: await loginCode(), inviteCode }, { anonymous: true, quiet: true });
  setSession(res.token, 'staff');
  await staffRoles(); // known before the first staff page opens (staffPage checks them)
  return res;
}

export async function logout(): Promise<void> {
  // our own logout: the sockets' closing is expected, not a session ended elsewhere
  stopAllLive();
  // a session the server no longer knows is logged out all the same
  if (getToken()) await identityApi.logout({ quiet: true }).catch(() => undefined);
  clearSession();
}

export function me(): Promise<MeResponse> {
  return identityApi.me({ quiet: true });
}

const ROLES_KEY = 'hb.staffRoles';

/** The logged-in staff member's roles as remembered for this session's token; null when not known. */
export function cachedStaffRoles(): StaffRole[] | null {
  const kept = Taro.getStorageSync(ROLES_KEY) as { token?: string; roles?: StaffRole[] } | '';
  return kept && kept.token && kept.token === getToken() ? (kept.roles ?? null) : null;
}

/** The logged-in staff member's roles: remembered per session (asked with /me once); null for no staff session. */
export async function staffRoles(): Promise<StaffRole[] | null> {
  const cached = cachedStaffRoles();
  if (cached) return cached;
  const token = getToken();
  const p = await me().catch(() => null);
  if (p?.kind !== 'staff' || !token) return null;
  Taro.setStorageSync(ROLES_KEY, { token, roles: p.roles });
  return p.roles;
}

/** Is a resident logged in (now)? */
export function isResident(): boolean {
  return !!getToken() && getSessionKind() === 'resident';
}

/** Make sure a resident is logged in before a page loads its data. */
export async function ensureResident(): Promise<boolean> {
  if (getToken()) return true;
  if (IS_H5) {
    void nav.to(PAGES.login);
    return false;
  }
  await wechatLogin();
  return true;
}

/** The route of the page on top ("staff/home/index"). */
function topRoute(): string {
  const pages = Taro.getCurrentPages();
  return (pages.length ? ((pages[pages.length - 1] as { route?: string }).route ?? '') : '').replace(/^\//, '');
}

onSessionExpired(async (kind) => {
  // a staff session never turns into a resident one: back to the staff login, saying why
  // (also a request without a session from a staff page)
  if (kind === 'staff' || topRoute().startsWith('staff/')) {
    if (!`/${topRoute()}`.startsWith(PAGES.staffLogin)) void nav.relaunch(PAGES.staffLogin, { expired: 1 });
    return false;
  }
  if (IS_H5) {
    void nav.to(PAGES.login);
    return false;
  }
  await wechatLogin();
  return true;
});
