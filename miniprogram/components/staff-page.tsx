/**
 * The frame of every staff page: the login check done once, here. `export default staffPage(Page)`
 * renders the page only for a staff session (so none of its loads go out without one) and sends
 * anyone else to the staff login; a resident's session never opens a staff page.
 */
import { View } from '@tarojs/components';
import { useDidShow } from '@tarojs/taro';
import type { ComponentType } from 'react';
import { getSessionKind } from '../services/api';
import { nav, PAGES } from '../services/pages';

/** Is a staff member logged in? Sends anyone else to the staff login when the page shows. */
export function useStaffSession(): boolean {
  useDidShow(() => {
    if (getSessionKind() !== 'staff') void nav.redirect(PAGES.staffLogin);
  });
  return getSessionKind() === 'staff';
}

export function staffPage<P extends object>(Page: ComponentType<P>): ComponentType<P> {
  function StaffOnly(props: P) {
    const staff = useStaffSession();
    return staff ? <Page {...props} /> : <View className='page' />;
  }
  StaffOnly.displayName = `staffPage(${Page.displayName ?? Page.name})`;
  return StaffOnly;
}
