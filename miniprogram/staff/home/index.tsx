import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { View } from '@tarojs/components';
import { STAFF_ROLE_LABEL, type MeResponse } from '@heat-butler/shared';
import { getSessionKind } from '../../services/api';
import { logout, me } from '../../services/session';

export default function StaffHome() {
  const [profile, setProfile] = useState<Extract<MeResponse, { kind: 'staff' }> | null>(null);

  useDidShow(() => {
    if (getSessionKind() !== 'staff') {
      Taro.redirectTo({ url: '/staff/login/index' });
      return;
    }
    me()
      .then((p) => {
        if (p.kind === 'staff') setProfile(p);
        else void Taro.redirectTo({ url: '/staff/login/index' });
      })
      .catch(() => Taro.redirectTo({ url: '/staff/login/index' }));
  });

  return (
    <View className='page'>
      <View className='hero'>
        <View className='hero-title'>{profile ? `${profile.name}，您好` : '员工工作台'}</View>
        <View className='hero-sub'>{profile ? profile.roles.map((r) => STAFF_ROLE_LABEL[r]).join('、') : ''}</View>
      </View>
      <View className='card'>
        <View className='card-title'>今日工作</View>
        <View className='muted'>工作台的待办（管家群待回复、报停复供审核、报修工单、对账）随各项业务上线后在此显示。</View>
      </View>
      <View
        className='btn btn-plain'
        onClick={async () => {
          await logout();
          Taro.switchTab({ url: '/pages/mine/index' });
        }}
      >
        退出登录
      </View>
    </View>
  );
}
