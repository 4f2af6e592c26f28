import { Image, Text, View } from '@tarojs/components';
import { chinaParts, formatChinaTime, REPAIR_OPEN_STATES, sameChinaDay, type GroupMessageView, type RepairView } from '@heat-butler/shared';
import { getSessionKind, getToken } from '../../services/api';
import { accountsApi, companyApi } from '../../services/api/accounts';
import { billingApi } from '../../services/api/billing';
import { groupsApi } from '../../services/api/groups';
import { repairsApi } from '../../services/api/repairs';
import { nav, PAGES } from '../../services/pages';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';
import { RepairTitle } from '../../components/repair-title';
import { ACCOUNT_STATUS_LABEL, formatFen } from '../../services/format';
import iconPay from '../../assets/icons/grid-pay.png';
import iconService from '../../assets/icons/grid-service.png';
import iconRepair from '../../assets/icons/grid-repair.png';
import iconGroup from '../../assets/icons/grid-group.png';

/** "今天 13:40" / "11月29日 13:40", China time */
function when(iso: string, now = new Date()): string {
  const p = chinaParts(iso);
  const hm = formatChinaTime(iso).slice(11);
  return sameChinaDay(iso, now) ? `今天 ${hm}` : `${p.month}月${p.day}日 ${hm}`;
}

/** An open ticket's next clock: contact, on site (emergencies), done; or what it waits for. */
function nextDeadline(t: RepairView, now = new Date()): { text: string; overdue: boolean } {
  if (t.status === 'awaiting_consent') return { text: '待您确认维修费用', overdue: false };
  const contacted = !['pending', 'assigned', 'reopened'].includes(t.status);
  const [label, due] = !contacted
    ? ['联系您', t.contactDueAt]
    : t.emergency && t.onSiteDueAt && t.status === 'contacted'
      ? ['上门', t.onSiteDueAt]
      : ['修复', t.doneDueAt];
  const overdue = Date.parse(due) < now.getTime();
  return overdue ? { text: `已超过约定${label}时间（${when(due, now)}），我们正在加急处理`, overdue } : { text: `预计${when(due, now)}前${label}`, overdue };
}

/** 待缴 (with a pay button that opens the bills), the latest announcement of the resident's buildings, open repairs with their clocks. */
function Today(props: { visible: boolean }) {
  const bills = useData(() => billingApi.bills({ quiet: true }), [], { onShow: true, enabled: isResident });
  const groups = useData(() => groupsApi.list({ quiet: true }), [], { onShow: true, enabled: isResident });
  const repairs = useData(() => repairsApi.list({ quiet: true }), [], { onShow: true, enabled: isResident });
  const due = bills.data?.totalDueFen ?? 0;
  const unpaid = bills.data?.items.filter((b) => b.status === 'unpaid' && b.dueFen > 0).length ?? 0;
  const latest = (groups.data?.items ?? [])
    .flatMap((g) => g.pinned.filter((m) => m.announcement).map((m) => ({ m, group: g.name })))
    .sort((a, b) => b.m.createdAt.localeCompare(a.m.createdAt))[0] as { m: GroupMessageView; group: string } | undefined;
  const open = (repairs.data?.items ?? []).filter((t) => REPAIR_OPEN_STATES.includes(t.status));
  // mounted with the page (its loads follow the page's show), shown once an account is bound
  if (!props.visible) return null;
  return (
    <View>
      {bills.data ? (
        <View className='card home-due' data-home-due={due}>
          <View className='row'>
            <View>
              <View className='muted'>待缴热费</View>
              <View className={due > 0 ? 'amount' : 'strong'}>{due > 0 ? formatFen(due) : '已全部缴清'}</View>
              {due > 0 ? <View className='muted'>{unpaid} 笔账单，可一次缴清</View> : null}
            </View>
            {due > 0 ? (
              <View className='btn btn-primary btn-inline' data-home-pay onClick={() => nav.tab(PAGES.bills)}>
                去缴费
              </View>
            ) : (
              <Text className='link' onClick={() => nav.tab(PAGES.bills)}>
                查看账单 ›
              </Text>
            )}
          </View>
        </View>
      ) : null}
      <LoadError error={bills.error} onRetry={bills.reload} />
      {latest ? (
        <View className='card' data-home-announcement onClick={() => nav.tab(PAGES.group)}>
          <View className='row'>
            <Text className='card-title'>最新公告</Text>
            <Text className='tag'>{latest.m.announcement!.typeLabel}</Text>
          </View>
          <View className='strong'>{latest.m.announcement!.title}</View>
          {latest.m.text ? <View className='muted home-clamp'>{latest.m.text}</View> : null}
          <View className='muted'>
            {latest.group} · {when(latest.m.createdAt)}
            {latest.m.announcement!.expectedRestoreAt ? ` · 预计${when(latest.m.announcement!.expectedRestoreAt)}恢复` : ''}
          </View>
        </View>
      ) : null}
      {open.length ? (
        <View className='card' data-home-repairs={open.length}>
          <View className='card-title'>进行中的报修（{open.length}）</View>
          {open.slice(0, 3).map((t) => {
            const d = nextDeadline(t);
            return (
              <View className='list-item' key={t.id} data-home-repair={t.id} onClick={() => nav.to(PAGES.repairDetail, { id: t.id })}>
                <RepairTitle t={t} titleClass='strong' />
                <View className={d.overdue ? 'alert-text' : 'muted'} data-home-deadline>
                  {d.text}
                </View>
              </View>
            );
          })}
          {open.length > 3 ? (
            <Text className='link' onClick={() => nav.to(PAGES.repairs)}>
              查看全部 ›
            </Text>
          ) : null}
        </View>
      ) : null}
    </View>
  );
}

export default function Home() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  // the name and hotline in the header: the defaults stand in while it can't be read
  const { data: company } = useData(() => companyApi.info({ quiet: true, anonymous: true }), [], { onShow: true });
  const bound = useData(() => accountsApi.list({ quiet: true }), [], { onShow: true, enabled: isResident });
  const accounts = bound.error ? undefined : bound.data;
  const entries = [
    { title: '缴纳热费', text: '微信支付，即时到账', icon: iconPay, onClick: () => nav.tab(PAGES.bills) },
    { title: '报停 / 复供', text: '每年9月20日前办理', icon: iconService, onClick: () => nav.tab(PAGES.services) },
    { title: '报修 / 测温', text: '室温不达标、漏水', icon: iconRepair, onClick: () => nav.tab(PAGES.services) },
    { title: '管家群', text: '本楼栋供热管家在线', icon: iconGroup, onClick: () => nav.tab(PAGES.group) },
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

      <Today visible={!!(loggedIn && accounts && accounts.items.length)} />

      <View className='grid'>
        {entries.map((e) => (
          <View className='grid-item' key={e.title} onClick={e.onClick}>
            <View className='grid-cell'>
              <Image className='grid-icon' src={e.icon} mode='aspectFit' />
              <View className='grid-cell-title'>{e.title}</View>
              <View className='muted'>{e.text}</View>
            </View>
          </View>
        ))}
      </View>
    </View>
  );
}
