/**
 * The resident's account context beside a question in the inbox: their accounts in the question's
 * building with the bills (due and paid) and their open repair tickets — read through the
 * accounts, billing and repairs services, never their tables.
 */
import { IsNull } from 'typeorm';
import { ACCOUNT_STATUS_LABEL, BILL_STATUS_LABEL, BINDING_RELATION_LABEL, REPAIR_OPEN_STATES, type InboxContext } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { assertStaffArea, type StaffPrincipal } from '../../platform/auth';
import { GroupMember, GroupMessage } from './entities';
import { GroupsCore } from './core';

export class GroupContext extends GroupsCore {
  async context(p: StaffPrincipal, messageId: number): Promise<InboxContext> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId, senderKind: 'resident' } });
    if (!msg || msg.hiddenAt) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    const residentId = msg.senderId;
    // the accounts that put the resident in this building's group (not their other homes)
    const memberships = await this.ds.getRepository(GroupMember).find({ where: { groupId: msg.groupId, residentId, leftAt: IsNull() }, order: { id: 'ASC' } });
    const accountIds = new Set(memberships.map((m) => m.accountId));
    const [bound, bills, tickets, who] = await Promise.all([
      accountIds.size ? this.d.accounts.listBound(residentId) : Promise.resolve([]),
      accountIds.size ? this.d.billing.listForResident(residentId) : Promise.resolve({ items: [], totalDueFen: 0 }),
      accountIds.size ? this.d.repairs.listForResident(residentId) : Promise.resolve({ items: [] }),
      this.residentLabel(msg.groupId, residentId),
    ]);
    const accounts = bound
      .filter((a) => accountIds.has(a.accountId))
      .map((a) => {
        const own = bills.items.filter((b) => b.accountId === a.accountId);
        return {
          accountId: a.accountId,
          accountNo: a.accountNo,
          address: a.address,
          ownerNameMasked: a.ownerNameMasked,
          relation: a.relation,
          relationLabel: BINDING_RELATION_LABEL[a.relation],
          status: a.status,
          statusLabel: ACCOUNT_STATUS_LABEL[a.status],
          dueFen: own.filter((b) => b.status === 'unpaid').reduce((sum, b) => sum + b.dueFen, 0),
          bills: own.map((b) => ({
            id: b.id,
            season: b.season,
            seasonLabel: b.seasonLabel,
            status: b.status,
            statusLabel: BILL_STATUS_LABEL[b.status],
            dueFen: b.status === 'unpaid' ? b.dueFen : 0,
            paidFen: b.paidFen,
            chargeFen: b.chargeFen,
            dueDate: b.dueDate,
          })),
        };
      });
    const shown = new Set(accounts.map((a) => a.accountId));
    const openTickets = tickets.items
      .filter((t) => shown.has(t.accountId) && REPAIR_OPEN_STATES.includes(t.status))
      .map((t) => ({
        id: t.id,
        no: t.no,
        accountId: t.accountId,
        categoryLabel: t.categoryLabel,
        emergency: t.emergency,
        status: t.status,
        statusLabel: t.statusLabel,
        createdAt: t.createdAt,
      }));
    return { messageId: msg.id, residentId, residentLabel: who.label, accounts, openTickets };
  }
}
