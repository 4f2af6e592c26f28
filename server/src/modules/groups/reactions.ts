import { afterCommit, inTransaction, type ModuleReactions } from '../../platform/events';
import type { AccountsService } from '../accounts';
import type { GroupsService } from './service';

/** What the groups module reacts to (wired once in app.ts). */
export function groupsReactions(groups: GroupsService, accounts: Pick<AccountsService, 'buildingsByIds'>): ModuleReactions {
  return {
    module: 'groups',
    events: [
      // join on bind, leave on unbind: in the binding's transaction (IN_TRANSACTION says why)
      inTransaction('groups.membership', async (em, changes) => {
        for (const c of changes) await groups.onBindingChange(em, c);
      }),
      // every building has its group (ensureGroup is idempotent; a bind opens a missing one too)
      afterCommit('building.created', 'groups.open-group', async (created) => {
        for (const b of await accounts.buildingsByIds(created.map((c) => c.buildingId))) await groups.ensureGroup(b);
      }),
      // a message's photo is published, flagged or hidden once WeChat decided (idempotent: only a pending one changes)
      afterCommit('photo.checked', 'groups.photo-verdict', async (checked) => {
        for (const c of checked) if (c.subjectType === 'group_message') await groups.onPhotoVerdict(c.subjectId, c.verdict);
      }),
    ],
  };
}
