// The module boundaries as one ESLint rule (`boundaries/imports`), checked on resolved paths so
// that `../x`, `../../modules/x/…` and deeper folders are judged alike. ARCHITECTURE.md explains
// the layout; eslint.config.mjs says which files are exempt (tests).
//
//   from \ to            module m (its index) | module m (other files) | other server code | mini-program
//   module m itself       ok                   | ok                     | ok                | no
//   another module        ok                   | NO (facade)            | ok                | no
//   platform/             NO                   | NO                     | ok                | no
//   rest of server/src    ok                   | NO (facade)            | ok                | no
//   shared/               NO                   | NO                     | NO                | NO
//   mini-program          NO                   | NO                     | NO                | ok
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where a repository path (posix, relative to the root) belongs. */
export function zoneOf(rel) {
  const m = /^server\/src\/modules\/([^/]+)(?:\/(.*))?$/.exec(rel);
  if (m) return { kind: 'module', module: m[1], inner: m[2] ?? '' };
  if (rel === 'server/src/platform' || rel.startsWith('server/src/platform/')) return { kind: 'platform' };
  if (rel === 'server' || rel.startsWith('server/')) return { kind: 'server' };
  if (rel === 'shared' || rel.startsWith('shared/')) return { kind: 'shared' };
  if (/^(miniprogram|types|config)(\/|$)/.test(rel)) return { kind: 'client' };
  return { kind: 'other' };
}

/** The repository path an import specifier points at, or undefined for npm/node packages. */
function targetOf(spec, fromFile) {
  if (spec.startsWith('.'))
    return path
      .relative(ROOT, path.resolve(path.dirname(fromFile), spec))
      .split(path.sep)
      .join('/');
  const ws = /^@heat-butler\/(shared|server)(\/.*)?$/.exec(spec);
  if (ws) return `${ws[1]}/src${ws[2] ?? ''}`;
  return undefined;
}

const isFacade = (inner) => /^(index(\.[cm]?[jt]s)?)?$/.test(inner);

/** The verdict for one import, or undefined when it is allowed. */
export function check(fromRel, spec, fromAbs = path.join(ROOT, fromRel)) {
  const to = targetOf(spec, fromAbs);
  if (to === undefined) return undefined;
  const from = zoneOf(fromRel);
  const target = zoneOf(to);
  if (from.kind === 'shared' && target.kind !== 'shared' && target.kind !== 'other') return 'shared';
  if (from.kind === 'client' && (target.kind === 'module' || target.kind === 'platform' || target.kind === 'server')) return 'client';
  if (target.kind === 'client' && from.kind !== 'client' && from.kind !== 'other') return 'serverImportsClient';
  if (target.kind !== 'module') return undefined;
  if (from.kind === 'platform') return 'platform';
  if (from.kind === 'module' && from.module === target.module) return undefined;
  if ((from.kind === 'module' || from.kind === 'server') && !isFacade(target.inner)) return 'facade';
  return undefined;
}

const importsRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Module boundaries: modules meet only through their index.ts; platform, shared and the mini-program stay apart.' },
    schema: [],
    messages: {
      facade:
        "'{{spec}}' reaches inside module {{module}}: import its facade '{{facade}}' (modules/{{module}}/index.ts). Missing something? Add it to {{module}}'s service and export it there.",
      platform: "platform/ imports no module ('{{spec}}'): the modules build on the platform, not the reverse. Let the caller pass in what is needed.",
      shared: "shared/ is used by the server and the mini-program alike: it imports neither ('{{spec}}').",
      client: "The mini-program imports no server code ('{{spec}}'): share types and rules through @heat-butler/shared.",
      serverImportsClient: "Only the mini-program imports mini-program code ('{{spec}}').",
    },
  },
  create(context) {
    const file = context.filename;
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    const verify = (node) => {
      if (!node || node.type !== 'Literal' || typeof node.value !== 'string') return;
      const spec = node.value;
      const verdict = check(rel, spec, file);
      if (!verdict) return;
      const to = zoneOf(targetOf(spec, file));
      const i = to.kind === 'module' ? spec.lastIndexOf(`/${to.module}/`) : -1;
      const facade = i >= 0 ? spec.slice(0, i + to.module.length + 1) : spec;
      context.report({ node, messageId: verdict, data: { spec, module: to.module ?? '', facade } });
    };
    return {
      ImportDeclaration: (n) => verify(n.source),
      ExportNamedDeclaration: (n) => verify(n.source),
      ExportAllDeclaration: (n) => verify(n.source),
      ImportExpression: (n) => verify(n.source),
      TSImportEqualsDeclaration: (n) => n.moduleReference?.type === 'TSExternalModuleReference' && verify(n.moduleReference.expression),
      TSImportType: (n) => verify(n.source ?? n.argument?.literal ?? n.argument),
      CallExpression: (n) => n.callee.type === 'Identifier' && n.callee.name === 'require' && verify(n.arguments[0]),
    };
  },
};

export default { meta: { name: 'heat-butler-boundaries' }, rules: { imports: importsRule } };
