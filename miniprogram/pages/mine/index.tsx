import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { STAFF_ROLE_LABEL, type MeResponse } from '@heat-butler/shared';
import { getToken } from '../../services/api';
import { nav, PAGES, type PagePath, type TabPage } from '../../services/pages';
import { logout, me } from '../../services/session';

export default function Mine() {
  const [profile, setProfile] = useState<MeResponse | null>(null);

  useDidShow(() => {
    if (!getToken()) return setProfile(null);
    me()
      .then(setProfile)
      .catch(() => setProfile(null));
  });

  const go = (page: Exclude<PagePath, TabPage>) => () => nav.to(page);
  const doLogout = async () => {
    await logout();
    setProfile(null);
    Taro.showToast({ title: '已退出登录', icon: 'none' });
  };

  return (
    <View className='page'>
      <View className='hero'>
        {profile?.kind === 'resident' ? (
          <View>
            <View className='hero-title'>{profile.nickname ?? '微信用户'}</View>
            <View className='hero-sub'>已绑定 {profile.bindingCount} 个户号</View>
          </View>
        ) : profile?.kind === 'staff' ? (
          <View>
            <View className='hero-title'>{profile.name}</View>
            <View className='hero-sub'>员工 · {profile.roles.map((r) => STAFF_ROLE_LABEL[r]).join('、')}</View>
          </View>
        ) : (
          <View onClick={go(PAGES.login)}>
            <View className='hero-title'>未登录</View>
            <View className='hero-sub'>点击登录，绑定户号后即可缴费、报修</View>
          </View>
        )}
      </View>

      <View className='card'>
        {profile?.kind !== 'staff' ? (
          <View>
            <View className='list-item row' onClick={go(PAGES.accounts)}>
              <Text>我的户号</Text>
              <Text className='muted'>›</Text>
            </View>
            <View className='list-item row' onClick={go(PAGES.bind)}>
              <Text>绑定户号</Text>
              <Text className='muted'>›</Text>
            </View>
            <View className='list-item row' onClick={go(PAGES.payments)}>
              <Text>缴费记录</Text>
              <Text className='muted'>›</Text>
            </View>
            <View className='list-item row' onClick={go(PAGES.invoices)}>
              <Text>我的发票</Text>
              <Text className='muted'>›</Text>
            </View>
          </View>
        ) : (
          <View className='list-item row' onClick={go(PAGES.staffHome)}>
            <Text>员工工作台</Text>
            <Text className='muted'>›</Text>
          </View>
        )}
        <View className='list-item row' onClick={go(PAGES.privacy)}>
          <Text>隐私政策</Text>
          <Text className='muted'>›</Text>
        </View>
        {profile?.kind !== 'staff' ? (
          <View className='list-item row' onClick={go(PAGES.staffLogin)}>
            <Text>员工登录</Text>
            <Text className='muted'>›</Text>
          </View>
        ) : null}
      </View>
      {profile ? (
        <View className='btn btn-plain' onClick={doLogout}>
          退出登录
        </View>
      ) : (
        <View className='btn btn-primary' onClick={go(PAGES.login)}>
          微信登录
        </View>
      )}
    </View>
  );
}
