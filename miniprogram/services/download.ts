/** Files the staff pages download from the API with the session token. */
import Taro from '@tarojs/taro';
import { getToken } from './api';
import { IS_H5 } from './session';

/**
 * Download an XLSX of the API: in a browser as a blob link named `name`; in WeChat opened as a
 * document. `failTitle` is the toast when the server refuses.
 */
export async function downloadXlsx(path: string, name: string, failTitle = '下载失败，请稍后再试'): Promise<void> {
  const url = `${API_BASE}${path}`;
  if (IS_H5) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${getToken()}` } });
    if (!res.ok) return void Taro.showToast({ title: failTitle, icon: 'none' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await res.blob());
    a.download = name;
    a.click();
    return;
  }
  const { tempFilePath, statusCode } = await Taro.downloadFile({ url, header: { Authorization: `Bearer ${getToken()}` } });
  if (statusCode !== 200) return void Taro.showToast({ title: failTitle, icon: 'none' });
  await Taro.openDocument({ filePath: tempFilePath, fileType: 'xlsx', showMenu: true });
}
