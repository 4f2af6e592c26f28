/**
 * A new version of the mini-program. WeChat checks for one at every cold start and downloads it in
 * the background, but keeps running the old one until the next cold start, which may be days
 * away: a resident would pay and a finance clerk settle differences with a client older than the
 * BFF it talks to. Once the new version is downloaded, the user is offered a restart into it
 * (WeChat's own wx.getUpdateManager; the H5 build is always served fresh, so nothing there).
 */
import Taro from '@tarojs/taro';

export function offerUpdates(): void {
  if (process.env.TARO_ENV !== 'weapp' || typeof Taro.getUpdateManager !== 'function') return;
  const manager = Taro.getUpdateManager();
  manager.onUpdateReady(() => {
    void Taro.showModal({ title: '发现新版本', content: '新版本已准备好，重启小程序即可使用。是否现在重启？', confirmText: '重启', cancelText: '稍后' })
      .then((r) => {
        if (r.confirm) manager.applyUpdate();
      })
      .catch(() => undefined);
  });
  manager.onUpdateFailed(() => void Taro.showToast({ title: '新版本下载失败，下次打开时再试', icon: 'none' }).catch(() => undefined));
}
