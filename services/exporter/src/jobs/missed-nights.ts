import { DAY_MS } from '@boarding/contracts/time';
import { parseExpression } from 'cron-parser';

export type MissedNightsInput = {
  /** EXPORT_CRON and EXPORT_TZ: when the nightly export should have fired. */
  cron: string;
  timeZone: string;
  /** The newest firing recorded in PostgreSQL (nightly_runs); null: none ever was. */
  lastRecorded: Date | null;
  now: Date;
  lateWindowDays: number;
};

export type MissedNights = {
  /** Firings after the last recorded one, up to now, to run at once, oldest first. */
  run: Date[];
  /**
   * Missed firings too old to catch up: the late window of the newest night re-checks their
   * days anyway, as far as it reaches (SPEC §5: up to LATE_WINDOW_DAYS back).
   */
  tooOld: Date[];
};

/**
 * SPEC §5: an exporter that starts after a firing it missed (it was down at 03:30, or Redis lost
 * the job scheduler) runs the missed nights at once, oldest first, up to LATE_WINDOW_DAYS back.
 * The record is PostgreSQL's (nightly_runs), not Redis's, so losing Redis loses no night. With
 * nothing recorded (a fresh install) nothing is missed: there was no night to run.
 */
export function missedNights(input: MissedNightsInput): MissedNights {
  if (input.lastRecorded === null || input.lastRecorded >= input.now) return { run: [], tooOld: [] };
  const interval = parseExpression(input.cron, {
    currentDate: input.lastRecorded,
    endDate: input.now,
    tz: input.timeZone,
  });
  // The newest night plans D−1 and re-checks the LATE_WINDOW_DAYS days before it: a firing older
  // than that many days plus one exports a day no catch-up night reaches again.
  const oldest = input.now.getTime() - (input.lateWindowDays + 1) * DAY_MS;
  const run: Date[] = [];
  const tooOld: Date[] = [];
  while (interval.hasNext()) {
    const firing = interval.next().toDate();
    if (firing.getTime() <= input.lastRecorded.getTime()) continue;
    (firing.getTime() >= oldest ? run : tooOld).push(firing);
  }
  return { run, tooOld };
}
