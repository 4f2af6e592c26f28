import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { formatChinaTime, formatFen, invoiceExplanation, INVOICE_STATE_LABEL, type InvoiceView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { invoicesApi } from '../../services/api/invoices';
import { nav, PAGES } from '../../services/pages';
import { ensureResident, IS_H5 } from '../../services/session';
import { useData } from '../../services/use-data';
import { usePoll } from '../../services/use-poll';
import { Empty, Field, LoadError } from '../../components/ui';

const IN_PROGRESS = (i: InvoiceView) => i.status === 'requested' || i.status === 'issuing' || !!i.pendingTitleName;

/**
 * Open an issued invoice's PDF: WeChat downloads and opens it; a browser opens the signed link.
 * The link is signed for a limited time: when the server refuses it, the list is fetched again
 * (fresh links) and the resident is told to tap once more. Never rejects.
 */
async function openPdf(url: string, refresh: () => Promise<void>) {
  if (IS_H5) {
    window.open(url, '_blank');
    return;
  }
  Taro.showLoading({ title: '正在打开' });
  let problem = '';
  try {
    const { tempFilePath, statusCode } = await Taro.downloadFile({ url });
    if (statusCode !== 200) problem = '发票链接已过期，已为您刷新，请再点一次“查看PDF”';
    else await Taro.openDocument({ filePath: tempFilePath, fileType: 'pdf', showMenu: true });
  } catch {
    problem = '发票打开失败，请检查网络后重试';
  }
  Taro.hideLoading();
  if (!problem) return;
  Taro.showToast({ title: problem, icon: 'none', duration: 3000 });
  await refresh();
}

/**
 * 我的发票: every invoice of my payments, with red reversals after refunds and title changes (each
 * explained). While one is being issued the list refreshes itself (backing off) until it is done.
 */
export default function Invoices() {
  const invoices = useData(async () => ((await ensureResident()) ? (await invoicesApi.list()).items : undefined), [], { onShow: true });
  const items = invoices.data;
  const load = invoices.reload;
  const issuing = !!items?.some(IN_PROGRESS);
  usePoll(issuing, load, items);

  /** the invoice whose 发送邮箱 form is open, and what is typed there */
  const [mailing, setMailing] = useState<number | null>(null);
  const [address, setAddress] = useState('');
  const [mailError, setMailError] = useState('');
  const [sending, setSending] = useState(false);

  const send = async (inv: InvoiceView) => {
    setMailError('');
    if (!address.trim()) return setMailError('请输入邮箱地址');
    setSending(true);
    try {
      await invoicesApi.email({ id: inv.id }, { email: address.trim() }, { quiet: true });
      setMailing(null);
      Taro.showToast({ title: '已发送', icon: 'success' });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setMailError(e.fields.email ?? e.message);
    } finally {
      setSending(false);
    }
  };

  return (
    <View className='page'>
      <LoadError error={invoices.error} onRetry={load} />
      {items && !items.length ? <Empty>暂无发票。缴费成功后可在缴费凭证页申请电子发票。</Empty> : null}
      {issuing ? (
        <View className='notice' data-invoice-progress>
          发票开具中，一般1分钟内完成，本页会自动更新。
        </View>
      ) : null}
      {items?.map((inv) => {
        const note = invoiceExplanation(inv);
        return (
          <View className='card invoice-card' key={inv.id} data-invoice-id={inv.id} data-status={inv.status}>
            <View className='row'>
              <Text className='strong'>{inv.typeLabel}</Text>
              <Text className={inv.status === 'issued' ? 'tag tag-green' : inv.status === 'failed' ? 'tag tag-red' : 'tag tag-grey'}>
                {INVOICE_STATE_LABEL[inv.status]}
              </Text>
            </View>
            <View className='muted'>
              抬头 {inv.titleName}
              {inv.taxId ? ` · ${inv.taxId}` : ''}
            </View>
            <View className='row'>
              <Text className='muted'>
                税率 {inv.rateLabel}
                {inv.number ? ` · 发票号码 ${inv.number}` : ''}
              </Text>
              <Text className='amount'>{formatFen(inv.amountFen)}</Text>
            </View>
            {inv.issuedAt ? <View className='muted'>开票时间 {formatChinaTime(inv.issuedAt)}</View> : null}
            {note ? (
              <View className='notice invoice-note' data-invoice-note>
                {note}
              </View>
            ) : null}
            {inv.failure ? <View className='alert'>开具失败：{inv.failure}。客服会尽快为您重新开具。</View> : null}
            {inv.pdfUrl ? (
              <View className='row invoice-actions'>
                <View className='btn btn-plain btn-half' onClick={() => void openPdf(inv.pdfUrl!, load)}>
                  查看PDF
                </View>
                <View
                  className='btn btn-plain btn-half'
                  data-mail-open
                  onClick={() => {
                    setMailing(mailing === inv.id ? null : inv.id);
                    setMailError('');
                  }}
                >
                  发送邮箱
                </View>
              </View>
            ) : null}
            {mailing === inv.id ? (
              <View className='invoice-mail' data-mail-form>
                <Field
                  label='接收邮箱'
                  name='mailTo'
                  value={address}
                  placeholder='例如 name@example.com'
                  error={mailError}
                  onInput={setAddress}
                  maxlength={100}
                />
                <View className='row'>
                  <View className='btn btn-plain btn-half' onClick={() => setMailing(null)}>
                    取消
                  </View>
                  <View className='btn btn-primary btn-half' data-mail-send onClick={sending ? undefined : () => void send(inv)}>
                    {sending ? '正在发送…' : '发送'}
                  </View>
                </View>
              </View>
            ) : null}
            {inv.canChangeTitle ? (
              <View
                className='link invoice-retitle'
                data-change-title
                onClick={() => nav.to(PAGES.invoiceRequest, { orderId: inv.orderId, invoiceId: inv.id })}
              >
                抬头有误或需要单位发票？更换抬头（每笔缴费限一次）
              </View>
            ) : null}
          </View>
        );
      })}
    </View>
  );
}
