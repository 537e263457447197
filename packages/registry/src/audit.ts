import { registryAudit } from '@boarding/db/schema';
import type { RegistryContext, Tx } from './context';

export type AuditAction =
  | 'MATCH_CARD'
  | 'END_MATCH'
  | 'CHANGE_HES_CODE'
  | 'REPLACE_CARD'
  | 'UNMATCH_CARD'
  | 'CORRECT_MATCH'
  | 'READ_CLEAR'
  | 'IMPORT'
  // The scheduled refresh stored the HES service's new answer on a live match (refresh-hes-statuses).
  | 'HES_STATUS_CHANGED';

export type AuditEntry = {
  action: AuditAction;
  cardNo?: string;
  personId?: number;
  matchId?: number;
  detail?: Record<string, unknown>;
};

/**
 * One audit row, in the caller's transaction: the change and its record commit together or not
 * at all. `detail` must hold masked values only (contracts/mask).
 */
export async function writeAudit(tx: Tx, ctx: RegistryContext, entry: AuditEntry): Promise<void> {
  await writeAudits(tx, ctx, [entry]);
}

/** Several audit rows of one actor in one statement (a batch of the HES refresh), as writeAudit. */
export async function writeAudits(
  tx: Tx,
  ctx: RegistryContext,
  entries: readonly AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await tx.insert(registryAudit).values(
    entries.map((entry) => ({
      actor: ctx.actor.id,
      channel: ctx.actor.channel,
      keyId: ctx.actor.keyId ?? null,
      locationId: ctx.actor.locationId ?? null,
      action: entry.action,
      cardNo: entry.cardNo ?? null,
      personId: entry.personId ?? null,
      matchId: entry.matchId ?? null,
      detail: entry.detail ?? {},
    })),
  );
}
