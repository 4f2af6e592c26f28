import { useState } from 'react';
import { useRouter } from '@tarojs/taro';
import { View } from '@tarojs/components';
import { Field } from '../../components/ui';
import { useLoginAttempt } from '../../services/use-login';
import { nav, PAGES } from '../../services/pages';
import { staffBindWechat, staffLogin, staffWechatLogin } from '../../services/session';

export default function StaffLogin() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { params } = useRouter();
  const { busy, error, setError, attempt } = useLoginAttempt(params.expired ? '登录已过期，请重新登录' : '');
  const [invite, setInvite] = useState('');

  const viaWechat = async (bind: boolean) => {
    if (bind && !invite.trim()) return setError('请输入管理员提供的邀请码');
    await attempt(async () => {
      await (bind ? staffBindWechat(invite.trim().toUpperCase()) : staffWechatLogin());
      void nav.redirect(PAGES.staffHome);
    });
  };

  const submit = async () => {
    if (!username.trim() || !password) return setError('请输入用户名和密码');
    await attempt(async () => {
      await staffLogin(username.trim(), password);
      void nav.redirect(PAGES.staffHome);
    });
  };

  return (
    <View className='page'>
      <View className='card'>
        <View className='card-title'>员工登录</View>
        <View className='muted' style={{ marginBottom: '20px' }}>
          客服、管家、调度、维修、换热站、财务和管理员使用公司分配的账号登录。
        </View>
        {error ? <View className='alert'>{error}</View> : null}
        <Field label='用户名' name='username' value={username} onInput={setUsername} />
        <Field label='密码' name='password' password value={password} onInput={setPassword} />
        <View className='btn btn-primary' onClick={busy ? undefined : submit}>
          {busy ? '正在登录…' : '登录'}
        </View>
      </View>
      <View className='card'>
        <View className='card-title'>微信登录</View>
        <View className='muted' style={{ marginBottom: '20px' }}>
          已绑定微信的员工可一键登录；首次使用请输入管理员提供的邀请码完成绑定。
        </View>
        <View className='btn btn-plain' onClick={busy ? undefined : () => viaWechat(false)}>
          微信一键登录
        </View>
        <Field label='邀请码' name='inviteCode' value={invite} onInput={setInvite} maxlength={16} />
        <View className='btn btn-plain' onClick={busy ? undefined : () => viaWechat(true)}>
          绑定微信并登录
        </View>
      </View>
    </View>
  );
}
