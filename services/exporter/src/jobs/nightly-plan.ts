import { addDays, calendarDateIn, zonedInstant } from '@boarding/contracts/time';
import type { ExportDayPayload } from './export-day';

export type NightPlanInput = {
  /** When the night's job was scheduled to fire (not when a worker happened to pick it up). */
  firedAt: Date;
  timeZone: string;
  /** HH:mm on the morning after D, in timeZone. */
  deadline: string;
  lateWindowDays: number;
};

/**
 * What one night exports (SPEC §5): D, the day that ended before the firing time in timeZone,
 * waiting for completeness until the deadline on D+1; then D−1 … D−lateWindowDays, at once.
 * D first, so it is queued ahead of the re-checks.
 */
export function planNight(input: NightPlanInput): ExportDayPayload[] {
  const day = addDays(calendarDateIn(input.firedAt, input.timeZone), -1);
  const deadline = zonedInstant(addDays(day, 1), input.deadline, input.timeZone).toISOString();
  const plan: ExportDayPayload[] = [{ day, trigger: 'nightly', waitForCompleteness: true, deadline }];
  for (let k = 1; k <= input.lateWindowDays; k++) {
    plan.push({ day: addDays(day, -k), trigger: 'late-window', waitForCompleteness: false, deadline: null });
  }
  return plan;
}
