import { useEffect, useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import {
  formatFen,
  seasonLabel,
  SERVICE_CHANGE_KIND_LABEL,
  type BoundAccount,
  type ServiceChangeDocument,
  type ServiceChangeKind,
  type ServiceChangePreview,
} from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { accountsApi } from '../../services/api/accounts';
import { serviceChangesApi } from '../../services/api/service-changes';
import { nav, PAGES } from '../../services/pages';
import { useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { choosePhoto } from '../../services/photo';
import { askSubscribe } from '../../services/subscribe';

/** The hotline, tap to call (WeChat: makePhoneCall; a browser may refuse, the number stays readable). */
function Hotline(props: { hotline: string }) {
  if (!props.hotline) return null;
  return (
    <View className='list-item row' data-hotline onClick={() => void Taro.makePhoneCall({ phoneNumber: props.hotline }).catch(() => undefined)}>
      <Text>服务热线 {props.hotline}</Text>
      <Text className='link'>拨打</Text>
    </View>
  );
}

/**
 * A stopped household this winter (the season's deadline has passed): what resuming now means —
 * the fee (full fee, what was paid, what is left), the valve opened after payment, and that it
 * goes through the hotline or the counter (accepted late by the company), not online.
 */
function ResumeThisWinter(props: { accountId: number; season: string; hotline: string }) {
  const p = useData(
    () => serviceChangesApi.preview({ accountId: props.accountId, season: props.season, kind: 'resume' }, { quiet: true }),
    [props.accountId, props.season],
  );
  if (!p.data) return null;
  const fee = p.data.fee;
  return (
    <View className='card' data-resume-this-winter>
      <View className='card-title'>本采暖季（{seasonLabel(props.season)}）恢复供暖</View>
      <View className='muted'>
        本采暖季的报停/复供申请已于{p.data.deadline}截止，无法在线申请；如需现在恢复供暖，请致电服务热线或到营业厅办理，由工作人员为您受理。
      </View>
      <View data-resume-fee>
        · 费用：须缴纳本采暖季全额热费{formatFen(fee.fullFen)}
        {fee.paidFen > 0 ? `，已缴${formatFen(fee.paidFen)}，需补缴${formatFen(fee.dueFen)}` : `，应缴${formatFen(fee.dueFen)}`}
        （按缴费当天计算早缴优惠或滞纳金）。
      </View>
      <View data-resume-valve>· 开阀：缴清后由换热站工作人员上门开阀，开阀后恢复供暖；开阀时请家中留人。</View>
      {p.data.arrears.totalFen > 0 ? <View className='alert'>该户号有往年欠费{formatFen(p.data.arrears.totalFen)}，需先缴清。</View> : null}
      <Hotline hotline={props.hotline} />
    </View>
  );
}

/** 办理报停/复供: choose account and season, read the rules and the fee effect, upload documents, submit. */
export default function ServiceChangeApply() {
  const [accountId, setAccountId] = useState<number | null>(null);
  const [season, setSeason] = useState('');
  // the seasons open now (created by the company, deadline ahead); none: when the next opens, the hotline
  const windows = useData(
    async () => {
      const w = await serviceChangesApi.windows({ quiet: true });
      setSeason((cur) => (w.open.some((o) => o.season === cur) ? cur : (w.open[0]?.season ?? '')));
      return w;
    },
    [],
    { onShow: true },
  );
  const seasons = windows.data?.open.map((o) => o.season) ?? [];
  const [kind, setKind] = useState<ServiceChangeKind>('stop');
  const [preview, setPreview] = useState<ServiceChangePreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [docs, setDocs] = useState<Record<string, string>>({});
  const [error, setError] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const bound = useData(
    async (): Promise<BoundAccount[]> => {
      const r = await accountsApi.list();
      if (r.items.length && accountId === null) {
        setAccountId(r.items[0]!.accountId);
        setKind(r.items[0]!.status === 'active' ? 'stop' : 'resume');
      }
      return r.items;
    },
    [],
    { onShow: true },
  );
  const accounts = bound.data ?? null;

  useEffect(() => {
    if (!accountId || !season) return;
    setPreview(null);
    setPreviewError(null);
    serviceChangesApi
      .preview({ accountId, season, kind }, { quiet: true })
      .then(setPreview)
      .catch((e) => setPreviewError(e instanceof ApiError ? e.message : '加载失败'));
  }, [accountId, season, kind]);

  const upload = async (docKind: string) => {
    const id = await choosePhoto('id_document').catch(() => null);
    if (id) setDocs((d) => ({ ...d, [docKind]: id }));
  };

  const submit = async () => {
    if (!accountId || !preview) return;
    // in the tap, before any await: progress messages (one per 允许, so each step needs a grant)
    const asked = askSubscribe('serviceChange');
    setBusy(true);
    setError([]);
    await asked;
    const documents: ServiceChangeDocument[] = Object.entries(docs).map(([k, url]) => ({ kind: k, url }));
    try {
      const app = await serviceChangesApi.submit({ accountId, season, kind, documents }, { quiet: true });
      Taro.showToast({ title: '已提交', icon: 'success' });
      void nav.redirect(PAGES.serviceDetail, { id: app.id });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const d = e.details ?? {};
      if (d.message) setError([d.message]);
      else if (d.missing) setError(d.missing.map((m: { label: string }) => `请上传${m.label}`));
      else if (d.problems) setError(d.problems);
      else setError([e.message]);
    } finally {
      setBusy(false);
    }
  };

  if (accounts && !accounts.length) {
    return (
      <View className='page'>
        <Empty>请先绑定户号</Empty>
        <View className='btn btn-primary' onClick={() => nav.to(PAGES.bind)}>
          绑定户号
        </View>
      </View>
    );
  }
  const missing = preview?.requiredDocuments.filter((d) => !docs[d.kind]) ?? [];
  const w = windows.data;
  const selected = accounts?.find((a) => a.accountId === accountId);
  return (
    <View className='page'>
      <LoadError error={bound.error} onRetry={bound.reload} />
      <LoadError error={windows.error} onRetry={windows.reload} />
      <View className='card'>
        <View className='card-title'>户号</View>
        {(accounts ?? []).map((a) => (
          <View key={a.accountId} className='list-item row' data-account-id={a.accountId} onClick={() => setAccountId(a.accountId)}>
            <View>
              <View>{a.accountNo}</View>
              <View className='muted'>{a.address}</View>
            </View>
            <Text className={a.accountId === accountId ? 'tag sc-tag' : 'tag tag-grey sc-tag'}>
              {a.accountId === accountId ? '已选' : a.status === 'active' ? '供热中' : '已报停'}
            </Text>
          </View>
        ))}
      </View>
      {w && selected && selected.status !== 'active' && w.closed ? (
        <ResumeThisWinter accountId={selected.accountId} season={w.closed.season} hotline={w.hotline} />
      ) : null}
      {w && !w.open.length && w.next ? (
        <View className='card' data-no-window>
          <View className='card-title'>暂不能在线办理</View>
          <View>{w.next.text}</View>
          <View className='muted'>届时可在此在线申请{seasonLabel(w.next.season)}的报停或复供。如有疑问请致电服务热线。</View>
          <Hotline hotline={w.hotline} />
        </View>
      ) : null}
      {seasons.length ? <Segmented options={seasons.map((s) => ({ value: s, label: seasonLabel(s) }))} value={season} onChange={setSeason} /> : null}
      {seasons.length ? (
        <Segmented options={(['stop', 'resume'] as const).map((k) => ({ value: k, label: SERVICE_CHANGE_KIND_LABEL[k] }))} value={kind} onChange={setKind} />
      ) : null}
      {previewError ? <View className='alert'>{previewError}</View> : null}
      {preview && season ? (
        <View>
          <View className='card'>
            <View className='card-title'>费用变化</View>
            <View data-fee-text>{preview.fee.text}</View>
            {preview.arrears.totalFen > 0 && kind === 'stop' ? (
              <View className='alert'>
                欠费 {formatFen(preview.arrears.totalFen)}，请先缴清：
                <Text className='link' onClick={() => nav.tab(PAGES.bills)}>
                  去缴费
                </Text>
              </View>
            ) : null}
          </View>
          <View className='card'>
            <View className='card-title'>办理须知</View>
            <View className='muted'>申请截止：{preview.deadline}（北京时间）</View>
            {preview.rules.map((r, i) => (
              <View className='muted' key={i}>
                · {r}
              </View>
            ))}
          </View>
          <View className='card'>
            <View className='card-title'>所需材料</View>
            {preview.requiredDocuments.length ? null : <View className='muted'>无需上传材料</View>}
            {preview.requiredDocuments.map((d) => (
              <View className='list-item row' key={d.kind}>
                <Text>{d.label}</Text>
                <Text className={docs[d.kind] ? 'tag tag-green' : 'link'} onClick={() => upload(d.kind)}>
                  {docs[d.kind] ? '已上传（点按更换）' : '上传照片'}
                </Text>
              </View>
            ))}
          </View>
          {preview.problems.length ? (
            <View className='alert' data-problems>
              {preview.problems.map((p, i) => (
                <View key={i}>{p}</View>
              ))}
              {!preview.open && preview.nextSeason !== season ? (
                <View className='link' onClick={() => setSeason(preview.nextSeason)}>
                  改为申请{seasonLabel(preview.nextSeason)}
                </View>
              ) : null}
            </View>
          ) : null}
          {error.length ? (
            <View className='alert'>
              {error.map((p, i) => (
                <View key={i}>{p}</View>
              ))}
            </View>
          ) : null}
          <View
            className={`btn btn-primary ${busy || preview.problems.length || missing.length ? 'btn-disabled' : ''}`}
            onClick={() => !busy && !preview.problems.length && !missing.length && submit()}
          >
            {missing.length ? `请先上传${missing.map((m) => m.label).join('、')}` : `提交${SERVICE_CHANGE_KIND_LABEL[kind]}申请`}
          </View>
        </View>
      ) : null}
    </View>
  );
}
