import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import type { BoundAccount } from '@heat-butler/shared';
import { accountsApi } from '../../services/api/accounts';
import { nav, PAGES } from '../../services/pages';
import { ensureResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { ACCOUNT_STATUS_LABEL, BINDING_RELATION_LABEL, formatArea } from '../../services/format';
import { Empty, LoadError } from '../../components/ui';

export default function Accounts() {
  const accounts = useData(async () => ((await ensureResident()) ? accountsApi.list() : undefined), [], { onShow: true });
  const list = accounts.data;
  const load = accounts.reload;

  const unbind = async (a: BoundAccount) => {
    const { confirm } = await Taro.showModal({
      title: '解除绑定',
      content: `确定解除户号 ${a.accountNo}（${a.address}）的绑定吗？解除后将不再收到该户的账单和通知。`,
      confirmText: '解除绑定',
      confirmColor: '#c92a2a',
    });
    if (!confirm) return;
    await accountsApi.unbind({ accountId: a.accountId });
    Taro.showToast({ title: '已解除绑定', icon: 'success' });
    await load();
  };

  return (
    <View className='page'>
      <LoadError error={accounts.error} onRetry={load} />
      {list && list.items.length === 0 ? <Empty>还没有绑定户号</Empty> : null}
      {list?.items.map((a) => (
        <View className='card account-card' key={a.accountId} data-account-no={a.accountNo}>
          <View className='row'>
            <Text className='card-title'>{a.address}</Text>
            <Text className={a.status === 'active' ? 'tag tag-green' : 'tag tag-grey'}>{ACCOUNT_STATUS_LABEL[a.status]}</Text>
          </View>
          <View className='muted'>
            户号 {a.accountNo} · {a.areaName}
          </View>
          <View className='muted'>
            户主 {a.ownerNameMasked} · 供热面积 {formatArea(a.heatedArea)} · 我是{BINDING_RELATION_LABEL[a.relation]}
          </View>
          <View className='btn btn-danger' onClick={() => unbind(a)}>
            解除绑定
          </View>
        </View>
      ))}
      {list ? (
        <View>
          <View className='muted' style={{ textAlign: 'center', marginTop: '12px' }}>
            已绑定 {list.items.length} / {list.max} 个户号
          </View>
          {list.items.length < list.max ? (
            <View className='btn btn-primary' onClick={() => nav.to(PAGES.bind)}>
              绑定新户号
            </View>
          ) : null}
        </View>
      ) : null}
    </View>
  );
}
