import { Text, View } from '@tarojs/components';
import { getSessionKind, getToken } from '../../services/api';
import { accountsApi, companyApi } from '../../services/api/accounts';
import { nav, PAGES } from '../../services/pages';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';
import { ACCOUNT_STATUS_LABEL } from '../../services/format';

export default function Home() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  // the name and hotline in the header: the defaults stand in while it can't be read
  const { data: company } = useData(() => companyApi.info({ quiet: true, anonymous: true }), [], { onShow: true });
  const bound = useData(() => accountsApi.list({ quiet: true }), [], { onShow: true, enabled: isResident });
  const accounts = bound.error ? undefined : bound.data;
  const entries = [
    { title: '缴纳热费', text: '微信支付，即时到账', onClick: () => nav.tab(PAGES.bills) },
    { title: '报停 / 复供', text: '每年9月20日前办理', onClick: () => nav.tab(PAGES.services) },
    { title: '报修 / 测温', text: '室温不达标、漏水', onClick: () => nav.tab(PAGES.services) },
    { title: '管家群', text: '本楼栋供热管家在线', onClick: () => nav.tab(PAGES.group) },
  ];

  return (
    <View className='page'>
      <View className='hero'>
        <View className='hero-title'>{company?.name ?? '供热管家'}</View>
        <View className='hero-sub'>温暖每一个家 · 24小时服务热线 {company?.hotline ?? ''}</View>
      </View>

      <View className='card'>
        <View className='row'>
          <View className='card-title'>我的户号</View>
          {loggedIn ? (
            <Text className='link' onClick={() => nav.to(PAGES.bind)}>
              + 绑定户号
            </Text>
          ) : null}
        </View>
        {!loggedIn ? (
          <View>
            <View className='muted'>登录后绑定户号，即可查看账单、在线缴费和报修。</View>
            <View className='btn btn-primary' onClick={() => nav.to(PAGES.login)}>
              微信登录
            </View>
          </View>
        ) : bound.error ? (
          <LoadError error={bound.error} onRetry={bound.reload} />
        ) : accounts && accounts.items.length ? (
          accounts.items.map((a) => (
            <View className='list-item' key={a.accountId} onClick={() => nav.to(PAGES.accounts)}>
              <View className='row'>
                <Text className='strong'>{a.address}</Text>
                <Text className={a.status === 'active' ? 'tag tag-green' : 'tag tag-grey'}>{ACCOUNT_STATUS_LABEL[a.status]}</Text>
              </View>
              <View className='muted'>户号 {a.accountNo}</View>
            </View>
          ))
        ) : (
          <View>
            <View className='muted'>您还没有绑定户号。户号印在缴费通知单或缴费卡上。</View>
            <View className='btn btn-primary' onClick={() => nav.to(PAGES.bind)}>
              绑定户号
            </View>
          </View>
        )}
      </View>

      <View className='grid'>
        {entries.map((e) => (
          <View className='grid-item' key={e.title} onClick={e.onClick}>
            <View className='grid-cell'>
              <View className='grid-cell-title'>{e.title}</View>
              <View className='muted'>{e.text}</View>
            </View>
          </View>
        ))}
      </View>
    </View>
  );
}
