import { accountOffsets, type OffsetRange, type RangeAccount } from '@boarding/db/bulk/offset-records';
import type { Admin } from 'kafkajs';
import type { Pool } from 'pg';
import { assertTopicExists, groupLag } from './catch-up';
import { addCounts } from './counts';
import { replayWindow } from './replay-range';

/** What to walk: a service day's window, one partition's offsets, or everything committed. */
export type ReconcileScope =
  | { kind: 'all' }
  | { kind: 'day'; day: string }
  /** `from` and `to` inclusive, as a user types them (and as gaps are printed). */
  | { kind: 'partition'; partition: number; from: number; to: number };

export type AccountTotals = {
  messages: number;
  taps: number;
  duplicates: number;
  deadLettered: Record<string, number>;
  heartbeats: number;
  unaccounted: number;
  doubled: number;
};

export type ReconcileReport = {
  topic: string;
  groupId: string;
  scope: ReconcileScope;
  /** Per partition: the committed part of the scope and what its offsets hold. */
  partitions: RangeAccount[];
  totals: AccountTotals;
  /** Messages in the scope past the group's committed offset: not read yet, so not judged. */
  uncommitted: number;
};

export class ReconcileInputError extends Error {
  readonly code = 'RECONCILE_INPUT_INVALID';
  readonly retryable = false;
}

/**
 * `boarding ingest reconcile`: walk the COMMITTED range of the ingest group (the offsets it has
 * stored and committed) and account for every offset: a stored tap, a duplicate, a dead letter
 * or a heartbeat (SPEC §2). Offsets with no record, or with two, are listed: there should be none.
 * A day's scope is the window a replay of it reads (its taps can be nowhere else).
 */
export async function reconcileOffsets(options: {
  admin: Admin;
  pool: Pool;
  topic: string;
  groupId: string;
  maxTapAgeDays: number;
  scope: ReconcileScope;
  now?: number;
}): Promise<ReconcileReport> {
  const { admin, pool, topic, groupId, scope } = options;
  if (scope.kind === 'partition' && (scope.from < 0 || scope.to < scope.from)) {
    throw new ReconcileInputError(`--from must be ≥ 0 and --to ≥ --from (got ${scope.from}..${scope.to})`);
  }
  await assertTopicExists(admin, topic);
  const lag = await groupLag(admin, groupId, topic);
  const committed = new Map(
    lag.partitions.map((p) => [p.partition, { low: p.low, end: p.committed >= 0 ? p.committed : p.low }]),
  );
  let wanted: OffsetRange[];
  if (scope.kind === 'all') {
    wanted = lag.partitions.map((p) => ({ partition: p.partition, from: p.low, to: p.high }));
  } else if (scope.kind === 'day') {
    const window = await replayWindow(admin, topic, scope.day, {
      maxTapAgeDays: options.maxTapAgeDays,
      now: options.now,
    });
    wanted = window.partitions;
  } else {
    if (!committed.has(scope.partition)) {
      throw new ReconcileInputError(`topic ${topic} has no partition ${scope.partition}`);
    }
    wanted = [{ partition: scope.partition, from: scope.from, to: scope.to + 1 }];
  }
  let uncommitted = 0;
  const ranges = wanted.map((r) => {
    const c = committed.get(r.partition) ?? { low: 0, end: 0 };
    const to = Math.min(r.to, Math.max(c.end, r.from));
    const high = lag.partitions.find((p) => p.partition === r.partition)?.high ?? r.to;
    uncommitted += Math.max(0, Math.min(r.to, high) - to);
    return { partition: r.partition, from: r.from, to };
  });
  const partitions = await accountOffsets(pool, topic, ranges);
  return { topic, groupId, scope, partitions, totals: sumAccounts(partitions), uncommitted };
}

export function sumAccounts(accounts: RangeAccount[]): AccountTotals {
  const totals: AccountTotals = {
    messages: 0,
    taps: 0,
    duplicates: 0,
    deadLettered: {},
    heartbeats: 0,
    unaccounted: 0,
    doubled: 0,
  };
  for (const a of accounts) addAccount(totals, a);
  return totals;
}

export function addAccount(totals: AccountTotals, a: RangeAccount): void {
  totals.messages += a.messages;
  totals.taps += a.taps;
  totals.duplicates += a.duplicates;
  totals.heartbeats += a.heartbeats;
  totals.unaccounted += a.unaccountedCount;
  totals.doubled += a.doubledCount;
  addCounts(totals.deadLettered, a.deadLettered);
}
