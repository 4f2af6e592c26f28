/**
 * The frame of every staff page: the login and role checks done once, here.
 * `export default staffPage(['finance', 'admin'], Page)` renders the page only for a staff session
 * of one of those roles (so none of its loads go out without one): anyone else is sent to the
 * staff login, a staff member without the role to their home (工作台) with a message saying who
 * the page is for. A resident's session never opens a staff page. The roles are those of the
 * server routes the page works with (the server checks them again on every call); they are
 * remembered at login (services/session.ts), and a session from before that is checked after the
 * page rendered.
 */
import { useState } from 'react';
import { View } from '@tarojs/components';
import Taro, { useDidShow } from '@tarojs/taro';
import type { ComponentType } from 'react';
import { STAFF_ROLE_LABEL, type StaffRole } from '@heat-butler/shared';
import { getSessionKind } from '../services/api';
import { cachedStaffRoles, staffRoles } from '../services/session';
import { nav, PAGES } from '../services/pages';
import { Empty } from './ui';

/** Is a staff member logged in? Sends anyone else to the staff login when the page shows. */
export function useStaffSession(): boolean {
  useDidShow(() => {
    if (getSessionKind() !== 'staff') void nav.redirect(PAGES.staffLogin);
  });
  return getSessionKind() === 'staff';
}

/** 此页面仅供财务、管理员使用 */
export const rolesOnlyText = (roles: readonly StaffRole[]) => `此页面仅供${roles.map((r) => STAFF_ROLE_LABEL[r]).join('、')}使用`;

/** Off to the staff member's home, then tell them why. */
async function sendHome(roles: readonly StaffRole[]): Promise<void> {
  await nav.redirect(PAGES.staffHome);
  await Taro.showModal({ title: '没有权限', content: `${rolesOnlyText(roles)}，您的账号没有这个岗位，已返回工作台。`, showCancel: false });
}

export function staffPage<P extends object>(roles: readonly StaffRole[] | 'any-staff', Page: ComponentType<P>): ComponentType<P> {
  const fits = (mine: readonly StaffRole[] | null) => roles === 'any-staff' || !!mine?.some((r) => roles.includes(r));
  function StaffOnly(props: P) {
    const staff = useStaffSession();
    // null while not known (a session from before roles were remembered): the page renders, the check follows
    const [allowed, setAllowed] = useState<boolean | null>(() => {
      const mine = cachedStaffRoles();
      return roles === 'any-staff' || mine ? fits(mine) : null;
    });
    useDidShow(() => {
      if (roles === 'any-staff' || getSessionKind() !== 'staff') return;
      void staffRoles().then((mine) => {
        if (!mine) return void nav.redirect(PAGES.staffLogin);
        setAllowed(fits(mine));
        if (!fits(mine)) void sendHome(roles as readonly StaffRole[]);
      });
    });
    if (staff && allowed !== false) return <Page {...props} />;
    return (
      <View className='page'>{staff && allowed === false && roles !== 'any-staff' ? <Empty>{`${rolesOnlyText(roles)}，正在返回工作台…`}</Empty> : null}</View>
    );
  }
  StaffOnly.displayName = `staffPage(${Page.displayName ?? Page.name})`;
  return StaffOnly;
}
