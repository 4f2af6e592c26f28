/** Photos: pick and upload each as a base64 data URL (POST /api/v1/uploads) — repairs, stop/resume documents, group messages, crews. */
import Taro from '@tarojs/taro';
import { api } from './api';

async function toDataUrl(path: string): Promise<string> {
  if (process.env.TARO_ENV === 'h5') {
    const blob = await (await fetch(path)).blob();
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }
  const base64 = Taro.getFileSystemManager().readFileSync(path, 'base64') as string;
  return `data:${/\.png$/i.test(path) ? 'image/png' : 'image/jpeg'};base64,${base64}`;
}

export async function pickAndUpload(max: number): Promise<{ id: string; url: string }[]> {
  if (max <= 0) return [];
  const picked = await Taro.chooseImage({ count: max, sizeType: ['compressed'], sourceType: ['album', 'camera'] }).catch(() => null);
  const paths = picked?.tempFilePaths ?? [];
  const out: { id: string; url: string }[] = [];
  if (!paths.length) return out;
  Taro.showLoading({ title: '上传中' });
  try {
    for (const p of paths.slice(0, max)) out.push(await api.post<{ id: string; url: string }>('/api/v1/uploads', { dataUrl: await toDataUrl(p) }));
  } finally {
    Taro.hideLoading();
  }
  return out;
}

/** One photo; resolves with its upload id (up_…), or null when the user picked none. */
export async function choosePhoto(): Promise<string | null> {
  return (await pickAndUpload(1))[0]?.id ?? null;
}
