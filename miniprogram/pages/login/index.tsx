import { useState } from 'react';
import Taro from '@tarojs/taro';
import { View } from '@tarojs/components';
import { Field } from '../../components/ui';
import { IS_H5, sandboxLogin, wechatLogin } from '../../services/session';
import { useLoginAttempt } from '../../services/use-login';
import { nav, PAGES } from '../../services/pages';

/** In WeChat a one-tap login; in the H5 build a sandbox screen that stands in for WeChat. */
export default function Login() {
  const [user, setUser] = useState('demo-resident');
  const { busy, error, attempt } = useLoginAttempt();

  const done = () => {
    const pages = Taro.getCurrentPages();
    if (pages.length > 1) Taro.navigateBack();
    else void nav.tab(PAGES.mine);
  };

  const submit = () =>
    attempt(async () => {
      if (IS_H5) await sandboxLogin(user.trim() || 'demo-resident');
      else await wechatLogin();
      Taro.showToast({ title: '登录成功', icon: 'success' });
      done();
    });

  return (
    <View className='page'>
      <View className='hero'>
        <View className='hero-title'>欢迎使用供热管家</View>
        <View className='hero-sub'>缴费 · 报停复供 · 报修 · 管家群</View>
      </View>
      <View className='card'>
        {IS_H5 ? (
          <View>
            <View className='sandbox-banner'>沙箱环境：本页代替微信完成登录（wx.login），不会连接真实微信。</View>
            <Field label='模拟的微信用户' name='sandbox-user' value={user} placeholder='例如 demo-resident' onInput={setUser} />
          </View>
        ) : (
          <View className='muted'>使用微信身份登录，我们只获取您的微信标识（openid），用于识别您绑定的户号。</View>
        )}
        {error ? <View className='alert'>{error}</View> : null}
        <View className={`btn btn-primary ${busy ? 'btn-busy' : ''}`} onClick={busy ? undefined : submit}>
          {IS_H5 ? '微信登录（沙箱）' : '微信一键登录'}
        </View>
        <View className='muted' style={{ marginTop: '24px', textAlign: 'center' }}>
          登录即表示您同意
          <View className='link' style={{ display: 'inline' }} onClick={() => nav.to(PAGES.privacy)}>
            《隐私政策》
          </View>
        </View>
      </View>
    </View>
  );
}
