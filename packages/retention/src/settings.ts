import { z } from 'zod';

/**
 * SPEC §11 retention ages, in whole days, shared by `boarding retention run` and the exporter's
 * nightly job. A day D is deleted when it is older than the setting: D < today − days (today in
 * Europe/Istanbul), so the day exactly `days` old still stays.
 */
export const RetentionEnv = z.object({
  // Stored taps, their identity rows (tap_keys), duplicates, dead letters and the heartbeat log of
  // service days older than this are deleted (KVKK: no longer than the Ministry's purpose needs).
  // At least 61: the nightly export re-builds the LATE_WINDOW_DAYS (at most 60) days before D, and
  // a re-build of a day whose taps are gone would deliver a new version with the rows missing.
  RETENTION_DAYS: z.coerce.number().int().min(61).max(3650).default(180),
  // Local copies of day files and manifests (EXPORT_DIR) whose service day is older than this are
  // deleted; the receiver has them and a --force re-delivery rebuilds the bytes from the database.
  EXPORT_KEEP_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  // Dead letters older than this lose their raw bytes (value and key: they may hold a card number,
  // TC or HES in clear); the record (coordinates, reason, detail) stays until RETENTION_DAYS.
  DEAD_LETTER_RAW_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
});
export type RetentionEnv = z.infer<typeof RetentionEnv>;

export type RetentionSettings = {
  /** RETENTION_DAYS */
  retentionDays: number;
  /** EXPORT_KEEP_DAYS */
  exportKeepDays: number;
  /** DEAD_LETTER_RAW_DAYS */
  deadLetterRawDays: number;
};

export function retentionSettings(env: RetentionEnv): RetentionSettings {
  return {
    retentionDays: env.RETENTION_DAYS,
    exportKeepDays: env.EXPORT_KEEP_DAYS,
    deadLetterRawDays: env.DEAD_LETTER_RAW_DAYS,
  };
}
