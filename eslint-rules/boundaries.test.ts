// The boundary rule judges resolved paths: these are the imports it must stop and must let through.
import { describe, expect, it } from 'vitest';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import boundaries from './boundaries.mjs';

const linter = new Linter({ cwd: process.cwd() });

function lint(file: string, code: string): string[] {
  return linter
    .verify(
      code,
      [
        {
          files: ['**/*.ts', '**/*.tsx'],
          languageOptions: { parser: tseslint.parser as never },
          plugins: { boundaries },
          rules: { 'boundaries/imports': 'error' },
        },
      ],
      { filename: `${process.cwd()}/${file}` },
    )
    .map((m) => m.message);
}

describe('module boundaries', () => {
  it('lets a module use another module only through its index.ts', () => {
    expect(lint('server/src/modules/groups/service.ts', "import type { AccountsService } from '../accounts';")).toEqual([]);
    expect(lint('server/src/modules/groups/service.ts', "import { x } from '../accounts/index';")).toEqual([]);
    const [msg] = lint('server/src/modules/groups/service.ts', "import { Account } from '../accounts/entities';");
    expect(msg).toContain("import its facade '../accounts'");
    expect(lint('server/src/modules/groups/service.ts', "import type { AccountsService } from '../accounts/service';")).toHaveLength(1);
    // deeper folders and re-exports are judged on the resolved path, too
    expect(lint('server/src/modules/groups/inbox/claims.ts', "import { Account } from '../../accounts/entities';")).toHaveLength(1);
    expect(lint('server/src/modules/groups/inbox/claims.ts', "export { Account } from '../../accounts/entities';")).toHaveLength(1);
    expect(lint('server/src/modules/groups/inbox/claims.ts', "type A = import('../../accounts/entities').Account;")).toHaveLength(1);
  });

  it('lets a module use its own files and the platform freely', () => {
    expect(
      lint(
        'server/src/modules/groups/service.ts',
        "import { GroupMessage } from './entities';\nimport { route } from '../../platform/http';\nimport { config } from '../../config';",
      ),
    ).toEqual([]);
    expect(lint('server/src/modules/groups/inbox/claims.ts', "import { GroupMessage } from '../entities';")).toEqual([]);
  });

  it('makes the rest of the server use the facade too', () => {
    expect(lint('server/src/app.ts', "import { GroupsService } from './modules/groups';")).toEqual([]);
    expect(lint('server/src/app.ts', "import { GroupsService } from './modules/groups/service';")).toHaveLength(1);
    expect(lint('server/src/cli/import.ts', "import { CLI_ACTOR } from '../modules/admin/audit';")).toHaveLength(1);
  });

  it('keeps the platform below the modules', () => {
    const [msg] = lint('server/src/platform/db/data-source.ts', "import { accountsEntities } from '../../modules/accounts';");
    expect(msg).toContain('platform/ imports no module');
    expect(lint('server/src/platform/outbox.ts', "import { OutboxMessage } from './entities';")).toEqual([]);
  });

  it('keeps shared/ free of server and mini-program code, and the mini-program free of server code', () => {
    expect(lint('shared/src/billing.ts', "import { config } from '../../server/src/config';")).toHaveLength(1);
    expect(lint('shared/src/billing.ts', "import { x } from '../../miniprogram/services/api';")).toHaveLength(1);
    expect(lint('shared/src/api/billing.ts', "import { fen } from '../inputs';\nimport { z } from 'zod';")).toEqual([]);
    expect(lint('miniprogram/pages/bill/index.tsx', "import type { Bill } from '../../../server/src/modules/billing';")).toHaveLength(1);
    expect(lint('miniprogram/pages/bill/index.tsx', "import { formatFen } from '@heat-butler/shared';")).toEqual([]);
    expect(lint('server/src/modules/billing/service.ts', "import { x } from '../../../../miniprogram/services/api';")).toHaveLength(1);
  });
});
