import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Checkbox, CheckboxGroup, Image, Input, Label, Text, View } from '@tarojs/components';
import {
  formatChinaTime,
  formatFen,
  MEASUREMENT_CHECKS,
  MEASUREMENT_CHECK_LABEL,
  type MeasurementCheck,
  type MeasurementState,
  type MeasurementView,
  type RefundableOrder,
} from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { measurementsApi } from '../../services/api/repairs';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError } from '../../components/ui';
import { MeasurementReadings } from '../../components/measurement';
import { photoSrc, pickAndUpload } from '../../services/photo';
import { me } from '../../services/session';
import { staffPage } from '../../components/staff-page';

const STATUS: Record<MeasurementState, string> = { booked: '待测温', recorded: '已测温', ruled: '已裁定', cancelled: '住户已取消' };
interface Room {
  room: string;
  reading: string;
  photo: { id: string; url: string } | null;
}

/** Readings per room with the protocol check-boxes; three-party visits need the three signatures. */
function RecordForm(props: { m: MeasurementView; onDone: () => Promise<void> }) {
  const [rooms, setRooms] = useState<Room[]>([
    { room: '主卧', reading: '', photo: null },
    { room: '客厅', reading: '', photo: null },
  ]);
  const [checked, setChecked] = useState<string[]>([]);
  const [parties, setParties] = useState({ company: '', resident: '', community: '' });
  const set = (i: number, patch: Partial<Room>) => setRooms(rooms.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const submit = async () => {
    const filled = rooms.filter((r) => r.room.trim() && r.reading.trim());
    if (!filled.length) return void Taro.showToast({ title: '请至少记录一个房间', icon: 'none' });
    if (checked.length < MEASUREMENT_CHECKS.length) return void Taro.showToast({ title: '请确认测温规范各项', icon: 'none' });
    const checks = Object.fromEntries(MEASUREMENT_CHECKS.map((c) => [c, true])) as Record<MeasurementCheck, boolean>;
    try {
      await measurementsApi.record(
        { id: props.m.id },
        {
          readings: filled.map((r) => ({ room: r.room.trim(), readingC: Number(r.reading), checks, ...(r.photo ? { photo: r.photo.id } : {}) })),
          ...(props.m.threeParty ? { parties } : {}),
        },
      );
      await props.onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };
  return (
    <View data-record-form>
      {rooms.map((r, i) => (
        <View className='row' style={{ gap: '12px', marginBottom: '12px' }} key={i}>
          <Input className='input' value={r.room} placeholder='房间' onInput={(e) => set(i, { room: e.detail.value })} />
          <Input className='input' type='digit' value={r.reading} placeholder='℃' onInput={(e) => set(i, { reading: e.detail.value })} />
          {r.photo ? (
            <Image className='repair-photo' src={photoSrc(r.photo.url)} mode='aspectFill' />
          ) : (
            <View
              className='link'
              style={{ whiteSpace: 'nowrap' }}
              onClick={async () => set(i, { photo: (await pickAndUpload(1, 'measurement_photo'))[0] ?? null })}
            >
              拍照
            </View>
          )}
        </View>
      ))}
      <View className='link' onClick={() => setRooms([...rooms, { room: '', reading: '', photo: null }])}>
        ＋ 添加房间
      </View>
      <CheckboxGroup onChange={(e) => setChecked(e.detail.value as string[])}>
        {MEASUREMENT_CHECKS.map((c) => (
          <View key={c} className='list-item'>
            <Label>
              <Checkbox value={c} checked={checked.includes(c)} /> {MEASUREMENT_CHECK_LABEL[c]}
            </Label>
          </View>
        ))}
      </CheckboxGroup>
      {props.m.threeParty ? (
        <View>
          <Field label='供热公司签字' value={parties.company} onInput={(v) => setParties({ ...parties, company: v })} />
          <Field label='住户签字' value={parties.resident} onInput={(v) => setParties({ ...parties, resident: v })} />
          <Field label='社区签字' value={parties.community} onInput={(v) => setParties({ ...parties, community: v })} />
        </View>
      ) : null}
      <View className='btn btn-primary' onClick={submit}>
        提交读数
      </View>
    </View>
  );
}

/**
 * The three-party ruling (only on a reading below 18 ℃): the reason. The refund is not typed: it
 * follows the company's rule (the paid fee × the days below the standard ÷ the season's days) and
 * finance pays it when the rule says (after the season by default).
 */
function RulingForm(props: { m: MeasurementView; onDone: () => Promise<void> }) {
  const [note, setNote] = useState('');
  const submit = async () => {
    const { confirm } = await Taro.showModal({
      title: '确认提交裁定',
      content: `单号 ${props.m.no}：提交后按公司规则计算退费，由财务按规定时间退付；裁定提交后不能修改。`,
      confirmText: '提交裁定',
      cancelText: '再看看',
    });
    if (!confirm) return;
    try {
      await measurementsApi.rule({ id: props.m.id }, { note });
      await props.onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };
  return (
    <View data-ruling-form>
      <View className='muted'>退费金额按公司规则计算：已缴热费 × 不达标天数 ÷ 采暖季天数，采暖季结束后由财务统一退付。</View>
      <Field label='裁定说明' value={note} onInput={setNote} />
      <View className='btn btn-primary' onClick={submit}>
        提交裁定
      </View>
    </View>
  );
}

/**
 * Finance: refund a ruling from one of the account's paid orders (POST /staff/measurements/:id/refund
 * links the refund to the ruling, kind 'ruling', rulingRef = the measurement's number; once only).
 */
function RulingRefund(props: { m: MeasurementView; onDone: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const amount = props.m.rulingRefundFen ?? 0;
  const paid = useData(() => measurementsApi.orders({ id: props.m.id }), [props.m.id]);
  const orders = paid.data?.items;
  const refund = async (o: RefundableOrder) => {
    if (busy) return;
    const ok = await Taro.showModal({ title: '确认退费', content: `从订单 ${o.outTradeNo} 退还 ${formatFen(amount)}（三方测温裁定 ${props.m.no}）` });
    if (!ok.confirm) return;
    setBusy(true);
    try {
      await measurementsApi.refund({ id: props.m.id }, { orderId: o.id });
      Taro.showToast({ title: '已提交退款', icon: 'success' });
      await props.onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setBusy(false);
    }
  };
  return (
    <View data-ruling-refund>
      <View className='field-label'>按裁定退费 {formatFen(amount)}：选择缴了测温所在采暖季热费的订单</View>
      <LoadError error={paid.error} onRetry={paid.reload} />
      {orders && !orders.length ? <View className='muted'>该户没有缴该采暖季热费的订单，无法原路退款</View> : null}
      {orders?.map((o) => (
        <View key={o.id} className='row list-item' data-refund-order={o.id}>
          <View>
            <View>{o.outTradeNo}</View>
            <View className='muted'>
              {o.description} · 实付 {formatFen(o.amountFen)}
              {o.seasonFen !== o.amountFen ? `（其中本采暖季 ${formatFen(o.seasonFen)}）` : ''} · 可退 {formatFen(o.refundableFen)}
            </View>
          </View>
          {o.refundableFen >= amount ? (
            <Text className='link' onClick={() => refund(o)}>
              {busy ? '提交中…' : '退费'}
            </Text>
          ) : (
            <Text className='muted'>余额不足</Text>
          )}
        </View>
      ))}
    </View>
  );
}

/** 测温工单: the area's measurement visits; record readings (only inside the windows) and rule on three-party ones. */
export default staffPage('any-staff', function StaffMeasurements() {
  const [finance, setFinance] = useState(false);
  const list = useData(() => measurementsApi.staffList(), [], { onShow: true });
  const items = list.data?.items;
  const load = list.reload;
  useDidShow(() => {
    // finance sees the refund of a ruling (without the role nothing more is shown)
    void me()
      .then((p) => setFinance(p.kind === 'staff' && p.roles.includes('finance')))
      .catch(() => undefined);
  });
  return (
    <View className='page'>
      <LoadError error={list.error} onRetry={load} />
      {items && !items.length ? <Empty>没有测温工单</Empty> : null}
      {items?.map((m) => (
        <View className='card' key={m.id} data-staff-measurement-id={m.id}>
          <View className='row'>
            <Text className='card-title'>{m.threeParty ? '三方测温' : '上门测温'}</Text>
            <Text className={m.compliance === 'below_legal' ? 'tag tag-red' : 'tag'}>{STATUS[m.status]}</Text>
          </View>
          <View className='muted'>
            {m.no} · 预约 {formatChinaTime(m.scheduledAt)}
          </View>
          <View className='muted'>{m.address}</View>
          <MeasurementReadings m={m} />
          {m.status === 'ruled' ? (
            <View className='muted'>
              裁定：{m.rulingNote}（退费 {((m.rulingRefundFen ?? 0) / 100).toFixed(2)} 元）
            </View>
          ) : null}
          {m.status === 'ruled' && m.refundId ? (
            <View className='muted' data-refunded>
              已按裁定退费（退款单 {m.refundId}）
            </View>
          ) : null}
          {finance && m.status === 'ruled' && !m.refundId && (m.rulingRefundFen ?? 0) > 0 ? <RulingRefund m={m} onDone={load} /> : null}
          {m.status === 'booked' ? <RecordForm m={m} onDone={load} /> : null}
          {m.status === 'recorded' && m.threeParty && m.compliance === 'below_legal' ? <RulingForm m={m} onDone={load} /> : null}
        </View>
      ))}
    </View>
  );
});
