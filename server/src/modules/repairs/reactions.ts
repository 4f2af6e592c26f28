import { afterCommit, type ModuleReactions } from '../../platform/events';
import type { RepairsService } from './service';

/** What the repairs module reacts to (wired once in app.ts); its own outbox jobs are registered by RepairsService.register. */
export function repairsReactions(repairs: RepairsService): ModuleReactions {
  return {
    module: 'repairs',
    events: [
      // a risky photo leaves the ticket (idempotent: a photo already gone is left alone)
      afterCommit('photo.checked', 'repairs.photo-verdict', async (checked) => {
        for (const c of checked) if (c.subjectType === 'repair') await repairs.onPhotoVerdict(c.subjectId, c.photo, c.verdict);
      }),
    ],
  };
}
