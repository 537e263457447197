import { addDays, zonedInstant } from '@boarding/contracts/time';
import type { ExporterEnv } from './env';
import type { createExporterService } from './exporter-service';
import type { ExportDayJobResult } from './jobs/export-day';
import { planNight } from './jobs/nightly-plan';

type ExporterService = ReturnType<typeof createExporterService>;

/** What one night's job of day D ended in (printed by `boarding serve exporter --night D`). */
export type NightOutcome =
  | { day: string; state: 'completed'; result: ExportDayJobResult }
  | { day: string; state: 'failed'; failedReason: string; attemptsMade: number };

/**
 * Run the nightly export of day D now, as the scheduler's firing of the night after D would
 * enqueue it (its deadline passed, so it does not wait for stragglers; the late-window days are
 * left out), on this process's BullMQ worker, and wait for its outcome. The demo runs a night
 * this way; an operator can too (`boarding serve exporter --night D`).
 */
export async function runNight(
  service: ExporterService,
  env: ExporterEnv,
  day: string,
  options: { timeoutMs: number },
): Promise<NightOutcome> {
  const firedAt = zonedInstant(addDays(day, 1), '03:30', env.EXPORT_TZ);
  const [nightly] = planNight({
    firedAt,
    timeZone: env.EXPORT_TZ,
    deadline: env.EXPORT_DEADLINE,
    lateWindowDays: 0,
  });
  if (!nightly) throw new Error(`no export planned for the night after ${day}`);
  await service.enqueueDay(nightly);
  const job = await service.waitForDay(day, { timeoutMs: options.timeoutMs, pollMs: 250 });
  return job.state === 'completed'
    ? { day, state: 'completed', result: job.result }
    : { day, state: 'failed', failedReason: job.failedReason, attemptsMade: job.attemptsMade };
}
