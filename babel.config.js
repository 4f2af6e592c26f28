// Taro's Babel preset for React + TypeScript on webpack 5.
module.exports = {
  presets: [['taro', { framework: 'react', ts: true, compiler: 'webpack5' }]],
};
