// ESLint: a deliberately small rule set. Its main job is to keep the module boundaries that
// ARCHITECTURE.md describes (the rule: eslint-rules/boundaries.mjs); `npm test` runs it
// (`npm run lint`).
//
//   - server/src/modules/<m>/ reaches another module only through `modules/<other>/index.ts`
//     (its facade: service class, view types, events), never its entities.ts, service.ts, …
//   - the rest of the server (app.ts, host.ts, cli/, demo/, wechat/, …) reaches a module the same
//     way, through its index.ts
//   - server/src/platform/ imports no module (the modules build on the platform, not the reverse)
//   - shared/ imports nothing from the server or the mini-program
//   - the mini-program imports no server code (only @heat-butler/shared)
// and, on the server, no promise left floating (@typescript-eslint/no-floating-promises).
import tseslint from 'typescript-eslint';
import boundaries from './eslint-rules/boundaries.mjs';

// Tests may reach a module's internals (e.g. read a table directly to check what a request did),
// so they are exempt from the boundary rule.
const TESTS = ['**/*.test.ts', '**/*.test.tsx', 'server/src/test-support/**', 'e2e/**', 'bench/**', 'weapp-test/**'];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', 'dist/**', '.swc/**', 'coverage/**', 'e2e/artifacts/**', 'bench/out/**', 'data/**'],
  },
  {
    files: ['**/*.{ts,tsx,mts,mjs,js}'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin, boundaries },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    name: 'boundaries',
    files: ['server/**/*.ts', 'shared/**/*.ts', 'miniprogram/**/*.{ts,tsx}', 'types/**/*.ts', 'config/**/*.ts'],
    ignores: TESTS,
    rules: { 'boundaries/imports': 'error' },
  },
  {
    // a promise nobody awaits loses its error (an unhandled rejection ends the process); type-aware,
    // so only over the server (its tsconfig), tests included
    name: 'server promises',
    files: ['server/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
);
