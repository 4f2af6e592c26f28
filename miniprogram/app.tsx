import { type PropsWithChildren } from 'react';
import { useLaunch } from '@tarojs/taro';
import { z } from 'zod';
import { loadSubscribeTemplates } from './services/subscribe';
import './app.css';

// zod 4 probes for eval support with `new Function("")` the first time it parses an object.
// WeChat forbids eval and the H5 page's Content-Security-Policy blocks it (a reported violation
// on every page): tell zod up front to parse without generated code.
z.config({ jitless: true });

function App({ children }: PropsWithChildren) {
  // subscription template ids must be at hand when a tap asks for messages (no await allowed there)
  useLaunch(() => void loadSubscribeTemplates());
  return children;
}

export default App;
