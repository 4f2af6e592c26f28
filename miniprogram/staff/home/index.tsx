import { useState } from 'react';
import Taro, { usePullDownRefresh } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { STAFF_ROLE_LABEL, formatFen, type MeResponse, type StaffRole } from '@heat-butler/shared';
import { downloadXlsx } from '../../services/download';
import { adminApi } from '../../services/api/admin';
import { nav, PAGES, type PagePath, type TabPage } from '../../services/pages';
import { logout, me } from '../../services/session';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

type Staff = Extract<MeResponse, { kind: 'staff' }>;

/** The pages each role works in, most urgent first (existing staff pages of this subpackage). */
const LINKS: { roles: StaffRole[]; title: string; desc: string; url: Exclude<PagePath, TabPage> }[] = [
  { roles: ['agent', 'butler'], title: '管家群待回复', desc: '认领并回复住户的提问', url: PAGES.staffInbox },
  { roles: ['agent'], title: '维修回访', desc: '完工工单24小时内回访（20:00–08:00不打扰）', url: PAGES.staffCallbacks },
  {
    roles: ['agent', 'butler', 'dispatcher', 'admin'],
    title: '投诉处理',
    desc: '24小时内办结（住户同意可延长），热线工单登记、回访',
    url: PAGES.staffComplaints,
  },
  { roles: ['agent', 'butler'], title: '报停/复供审核', desc: '待审核的申请', url: PAGES.staffServiceChanges },
  { roles: ['agent', 'butler'], title: '群公告', desc: '停热、抢修通知', url: PAGES.staffAnnounce },
  { roles: ['worker', 'dispatcher', 'agent', 'butler'], title: '维修工单', desc: '片区报修：接单、联系、上门、完工', url: PAGES.staffRepairs },
  { roles: ['station'], title: '阀门工单', desc: '报停关阀、复供开阀', url: PAGES.staffValveOrders },
  { roles: ['station', 'worker', 'dispatcher', 'finance'], title: '测温工单', desc: '按规程入户测温、三方确认、裁定退费', url: PAGES.staffMeasurements },
  { roles: ['dispatcher', 'admin'], title: '报修服务统计', desc: '时限达标率、处理时长、满意度', url: PAGES.staffRepairReport },
  { roles: ['dispatcher', 'agent', 'butler'], title: '重点关注名单', desc: '低温住户与投诉较多的楼栋', url: PAGES.staffRepairWatch },
  {
    roles: ['dispatcher', 'agent', 'butler', 'worker', 'station'],
    title: '走访复测与隐患台账',
    desc: '低温户首日走访、修复后复测、投诉集中楼栋',
    url: PAGES.staffWatchTasks,
  },
  { roles: ['finance'], title: '对账', desc: '每日微信账单与台账核对', url: PAGES.staffReconciliation },
  { roles: ['finance'], title: '支付与退费', desc: '查询缴费、办理退费', url: PAGES.staffPayments },
  { roles: ['finance'], title: '发票', desc: '开票失败重试、导出', url: PAGES.staffInvoices },
  { roles: ['admin', 'finance'], title: '采暖季与出账', desc: '新建采暖季与热价，预览并出账', url: PAGES.staffSeasons },
  { roles: ['admin'], title: '住户导入', desc: '上传营业收费系统的住户表，校验后导入', url: PAGES.staffAdminImport },
  { roles: ['admin'], title: '员工与片区', desc: '新建员工、停用、微信绑定邀请码', url: PAGES.staffAdminStaff },
  { roles: ['admin'], title: '标准话术库', desc: '管家群常见问题的统一答复', url: PAGES.staffCanned },
  { roles: ['admin'], title: '公司设置', desc: '热线、采暖季、报停规则、维修时限；操作记录', url: PAGES.staffAdminSettings },
];

type Target = { page: Exclude<PagePath, TabPage>; query?: Record<string, string> };

/** A number of the day; a tap opens the list it counts. */
function Stat({ label, value, tone, to }: { label: string; value: string | number; tone?: 'red' | 'orange'; to: Target }) {
  return (
    <View className='grid-item' data-dash-tile={label} onClick={() => void nav.to(to.page, to.query)}>
      <View className={`grid-cell dash-stat dash-tile${tone ? ` dash-${tone}` : ''}`}>
        <View className='dash-value'>{value}</View>
        <View className='muted'>{label} ›</View>
      </View>
    </View>
  );
}

/** 11-25 from 2026-11-25; today is 今天 */
const dayLabel = (date: string, today: string) => (date === today ? '今天' : `${Number(date.slice(5, 7))}/${Number(date.slice(8, 10))}`);

/** A bar chart of plain Views: one group per day, bars' heights in % of the largest value. */
function DayBars(props: {
  title: string;
  today: string;
  days: { date: string; values: number[] }[];
  series: { label: string; className: string }[];
  format?: (v: number) => string;
}) {
  const max = Math.max(1, ...props.days.flatMap((d) => d.values));
  const fmt = props.format ?? String;
  return (
    <View className='chart' data-chart={props.title}>
      <View className='row'>
        <Text className='strong'>{props.title}</Text>
        <View className='chart-legend'>
          {props.series.map((s) => (
            <Text key={s.label} className='muted'>
              <Text className={`chart-dot ${s.className}`} /> {s.label}
            </Text>
          ))}
        </View>
      </View>
      <View className='chart-plot'>
        {props.days.map((d) => (
          <View key={d.date} className='chart-day'>
            <View className='chart-bars'>
              {d.values.map((v, i) => (
                <View
                  key={i}
                  className={`chart-bar ${props.series[i]!.className}`}
                  style={{ height: `${(v / max) * 100}%`, width: `${100 / d.values.length}%` }}
                >
                  {v ? <Text className='chart-value'>{fmt(v)}</Text> : null}
                </View>
              ))}
            </View>
            <View className='chart-label'>{dayLabel(d.date, props.today)}</View>
          </View>
        ))}
      </View>
    </View>
  );
}

/** 1.2万 for 12000 yuan: bar tops stay short */
const shortYuan = (fen: number) => {
  const yuan = fen / 100;
  return yuan >= 10_000 ? `${(yuan / 10_000).toFixed(1)}万` : String(Math.round(yuan));
};

export default staffPage('any-staff', function StaffHome() {
  const [profile, setProfile] = useState<Staff | null>(null);
  const dashboard = useData(
    async () => {
      // who is this (a session the server no longer knows: log in again)
      const p = await me().catch(() => null);
      if (p?.kind !== 'staff') return void nav.redirect(PAGES.staffLogin);
      setProfile(p);
      return adminApi.dashboard({ quiet: true });
    },
    [],
    { onShow: true },
  );
  const dash = dashboard.data;
  usePullDownRefresh(() => void dashboard.reload().finally(() => Taro.stopPullDownRefresh()));

  const roles = profile?.roles ?? [];
  const isAdmin = roles.includes('admin');
  const links = LINKS.filter((l) => isAdmin || l.roles.some((r) => roles.includes(r)));
  // the dashboard counts a worker's own open tickets, everyone else's area (admin/dashboard)
  const workerOnly = roles.includes('worker') && !roles.some((r) => r === 'dispatcher' || r === 'agent' || r === 'butler' || r === 'admin');
  const repairsTab = workerOnly ? 'mine' : 'area';

  return (
    <View className='page'>
      <View className='hero'>
        <View className='hero-title'>{profile ? `${profile.name}，您好` : '员工工作台'}</View>
        <View className='hero-sub'>{profile ? roles.map((r) => STAFF_ROLE_LABEL[r]).join('、') : ''}</View>
      </View>

      <LoadError error={dashboard.error} onRetry={dashboard.reload} />
      {dash ? (
        <View className='card'>
          <View className='row'>
            <Text className='card-title'>今日工作</Text>
            <Text className='muted'>{dash.date}</Text>
          </View>
          <View className='grid'>
            {dash.messages ? (
              <Stat
                label='群消息待回复'
                value={dash.messages.unanswered}
                tone={dash.messages.unanswered ? 'orange' : undefined}
                to={{ page: PAGES.staffInbox }}
              />
            ) : null}
            {dash.serviceChanges ? <Stat label='报停/复供待审核' value={dash.serviceChanges.pendingReview} to={{ page: PAGES.staffServiceChanges }} /> : null}
            {dash.serviceChanges && (roles.includes('station') || isAdmin) ? (
              <Stat label='阀门工单待施工' value={dash.serviceChanges.valveOrdersOpen} to={{ page: PAGES.staffValveOrders }} />
            ) : null}
            {/* a worker's numbers are their own tickets; everyone else's the area's */}
            {dash.repairs ? <Stat label='未完成维修工单' value={dash.repairs.open} to={{ page: PAGES.staffRepairs, query: { tab: repairsTab } }} /> : null}
            {dash.repairs ? (
              <Stat
                label='已超时'
                value={dash.repairs.overdue}
                tone={dash.repairs.overdue ? 'red' : undefined}
                to={{ page: PAGES.staffRepairs, query: { tab: 'overdue' } }}
              />
            ) : null}
            {dash.repairs ? (
              <Stat
                label='1小时内到期'
                value={dash.repairs.dueSoon}
                tone={dash.repairs.dueSoon ? 'orange' : undefined}
                to={{ page: PAGES.staffRepairs, query: { tab: 'soon' } }}
              />
            ) : null}
            {dash.payments ? <Stat label='今日缴费笔数' value={dash.payments.count} to={{ page: PAGES.staffPayments }} /> : null}
            {dash.payments ? <Stat label='今日缴费金额' value={formatFen(dash.payments.sumFen)} to={{ page: PAGES.staffPayments }} /> : null}
          </View>
          {dash.repairs && dash.repairs.open ? (
            <View className='dash-bar'>
              <View className='dash-bar-ok' style={{ width: `${(dash.repairs.onTime / dash.repairs.open) * 100}%` }} />
              <View className='dash-bar-soon' style={{ width: `${(dash.repairs.dueSoon / dash.repairs.open) * 100}%` }} />
              <View className='dash-bar-late' style={{ width: `${(dash.repairs.overdue / dash.repairs.open) * 100}%` }} />
            </View>
          ) : null}
        </View>
      ) : null}

      {dash && (dash.paymentsByDay || dash.repairsByDay) ? (
        <View className='card'>
          <View className='card-title'>近7天</View>
          {dash.paymentsByDay ? (
            <DayBars
              title='缴费笔数'
              today={dash.date}
              days={dash.paymentsByDay.map((d) => ({ date: d.date, values: [d.count] }))}
              series={[{ label: '笔数', className: 'chart-blue' }]}
            />
          ) : null}
          {dash.paymentsByDay ? (
            <DayBars
              title='缴费金额（元）'
              today={dash.date}
              days={dash.paymentsByDay.map((d) => ({ date: d.date, values: [d.sumFen] }))}
              series={[{ label: '金额', className: 'chart-green' }]}
              format={shortYuan}
            />
          ) : null}
          {dash.repairsByDay ? (
            <DayBars
              title='维修工单'
              today={dash.date}
              days={dash.repairsByDay.map((d) => ({ date: d.date, values: [d.opened, d.closed] }))}
              series={[
                { label: '新报修', className: 'chart-orange' },
                { label: '已关闭', className: 'chart-green' },
              ]}
            />
          ) : null}
        </View>
      ) : null}

      {links.length ? (
        <View className='card'>
          <View className='card-title'>常用</View>
          {links.map((l) => (
            <View key={l.url} className='row dash-link' onClick={() => nav.to(l.url)}>
              <View>
                <View>{l.title}</View>
                <View className='muted'>{l.desc}</View>
              </View>
              <Text className='link'>进入 ›</Text>
            </View>
          ))}
        </View>
      ) : null}

      {isAdmin ? (
        <View className='card'>
          <View className='card-title'>管理</View>
          <View className='muted'>住户导入：下载模板填写后，用“导入”上传（校验全部通过才会写入）；也可在服务器上运行 npm run import -- 文件.xlsx。</View>
          <View className='row dash-link'>
            <Text className='link' onClick={() => downloadXlsx(adminApi.importTemplate(), '住户导入模板.xlsx')}>
              下载导入模板
            </Text>
            <Text className='link' onClick={() => downloadXlsx(adminApi.exportAccounts(), '住户.xlsx')}>
              导出住户
            </Text>
          </View>
        </View>
      ) : null}

      <View
        className='btn btn-plain'
        onClick={async () => {
          await logout();
          void nav.tab(PAGES.mine);
        }}
      >
        退出登录
      </View>
    </View>
  );
});
