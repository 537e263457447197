import type { PoolClient } from 'pg';
import { type Completeness, dayCompleteness } from './completeness';

export type DayStats = {
  tapsStored: number;
  accepted: number;
  rejected: number;
  matched: number;
  unmatched: number;
  duplicatesDropped: number;
  deadLettered: number;
} & Completeness;

/** SPEC §4 manifest, uploaded beside the file (and last). */
export type Manifest = {
  serviceDay: string;
  version: number;
  file: string;
  bytes: number;
  sha256: string;
  rows: number;
  generatedAt: string;
  supersedes: number | null;
  stats: DayStats;
};

/** What is known of day D: stored taps by result, duplicates, dead letters, completeness. */
export async function dayStats(client: PoolClient, day: string, matched: number): Promise<DayStats> {
  const { rows } = await client.query<{
    stored: number;
    accepted: number;
    rejected: number;
    dups: number;
    letters: number;
  }>(
    `select (select count(*) from boardings where service_day = $1::date)::int as stored,
            (select count(*) from boardings where service_day = $1::date and result = 'ACCEPTED')::int as accepted,
            (select count(*) from boardings where service_day = $1::date and result = 'REJECTED')::int as rejected,
            (select count(*) from duplicate_taps where service_day = $1::date)::int as dups,
            (select count(*) from dead_letters where service_day = $1::date)::int as letters`,
    [day],
  );
  const r = rows[0] ?? { stored: 0, accepted: 0, rejected: 0, dups: 0, letters: 0 };
  return {
    tapsStored: r.stored,
    accepted: r.accepted,
    rejected: r.rejected,
    matched,
    unmatched: r.stored - matched,
    duplicatesDropped: r.dups,
    deadLettered: r.letters,
    ...(await dayCompleteness(client, day)),
  };
}
