/** Choose a photo and upload it (POST /api/v1/uploads, base64 data URL); resolves with the upload id (up_…). */
import Taro from '@tarojs/taro';
import { api } from '../../services/api';
import { IS_H5 } from '../../services/session';

async function toDataUrl(path: string): Promise<string> {
  if (IS_H5) {
    const blob = await (await fetch(path)).blob();
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }
  const base64 = Taro.getFileSystemManager().readFileSync(path, 'base64') as string;
  const mime = /\.png$/i.test(path) ? 'image/png' : 'image/jpeg';
  return `data:${mime};base64,${base64}`;
}

export async function choosePhoto(): Promise<string | null> {
  const picked = await Taro.chooseImage({ count: 1, sizeType: ['compressed'], sourceType: ['album', 'camera'] }).catch(() => null);
  const path = picked?.tempFilePaths?.[0];
  if (!path) return null;
  Taro.showLoading({ title: '上传中' });
  try {
    const res = await api.post<{ id: string; url: string }>('/api/v1/uploads', { dataUrl: await toDataUrl(path) });
    return res.id;
  } finally {
    Taro.hideLoading();
  }
}
