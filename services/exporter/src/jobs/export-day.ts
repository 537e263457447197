import type { DayExportOutcome } from '@boarding/delivery/deliver-day-export';
import { z } from 'zod';

/**
 * `export-day`: build day D's file and deliver it per SPEC §4's version rules. One job id per
 * day, so a day is never queued twice: whoever enqueues D while its job waits, sleeps or runs
 * gets that job (the exporter's enqueueDay).
 */
export const EXPORT_DAY_JOB = 'export-day';

/** What asked for the export; kept in the ledger's trigger column. */
export const ExportDayTrigger = z.enum(['nightly', 'late-window', 'manual']);
export type ExportDayTrigger = z.infer<typeof ExportDayTrigger>;

export const ExportDayPayload = z
  .strictObject({
    day: z.iso.date(),
    trigger: ExportDayTrigger,
    // Wait (re-checking) until every validator of D is complete or the deadline passes (SPEC §5).
    waitForCompleteness: z.boolean(),
    deadline: z.iso.datetime({ offset: true }).nullable(),
  })
  .refine((p) => !p.waitForCompleteness || p.deadline !== null, {
    message: 'waiting for completeness needs a deadline',
    path: ['deadline'],
  });
export type ExportDayPayload = z.infer<typeof ExportDayPayload>;

/**
 * `export-2020-11-20`. Not `export:…`: BullMQ 5 refuses custom ids with ':' (its Redis key
 * separator) unless they have exactly three parts, a rule kept only for old repeatable jobs.
 */
export function exportDayJobId(day: string): string {
  return `export-${day}`;
}

/** The job's return value, kept by BullMQ and shown by Bull Board: counts only, no personal data. */
export type ExportDayJobResult = {
  day: string;
  trigger: ExportDayTrigger;
  /** SKIPPED: a late-window day with no taps stored and nothing ever delivered. */
  outcome: DayExportOutcome | 'SKIPPED';
  version: number | null;
  rows: number | null;
  file: string | null;
  /** Delivery tries this run took (0 when nothing was sent). */
  deliveryAttempts: number;
};
