// first: configures zod before any module below builds a schema
import './zod-setup';
import { type PropsWithChildren } from 'react';
import { useLaunch } from '@tarojs/taro';
import { loadSubscribeTemplates } from './services/subscribe';
import { offerUpdates } from './services/update';
import './app.css';

function App({ children }: PropsWithChildren) {
  // subscription template ids must be at hand when a tap asks for messages (no await allowed there)
  useLaunch(() => {
    void loadSubscribeTemplates();
    offerUpdates();
  });
  return children;
}

export default App;
