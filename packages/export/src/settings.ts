import { join } from 'node:path';
import { EnvFlag, KafkaEnv } from '@boarding/config/env';
import { localDir } from '@boarding/config/paths';
import { z } from 'zod';

/** How day files are named, written and delivered: shared by `boarding export` and the exporter. */
export const ExportEnv = z.object({
  // OPERATOR in BINIS_<OPERATOR>_<YYYYMMDD>_v<N>.csv (SPEC §4).
  EXPORT_OPERATOR: z
    .string()
    .regex(/^[A-Z0-9]+$/, 'must be upper-case letters and digits (it becomes part of a file name)')
    .default('ESHOT'),
  // Deliver BINIS_….csv.gz instead of .csv (the manifest's bytes/sha256 are then of the .gz).
  EXPORT_GZIP: EnvFlag.default(false),
  // Where day files and manifests are built and kept (they hold TC and HES in clear: the
  // directory is created 0700, files 0600). Default: .local/exports of the checkout.
  EXPORT_DIR: z.string().min(1).optional(),
  // Delivery tries per run (the first included), then the first wait, doubled up to the max.
  DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  DELIVERY_BACKOFF_MS: z.coerce.number().int().min(0).max(600000).default(2000),
  DELIVERY_BACKOFF_MAX_MS: z.coerce.number().int().min(0).max(3600000).default(60000),
  // The taps topic the ingest reads: the manifest accounts for the offsets of the day in it.
  KAFKA_TAPS_TOPIC: KafkaEnv.shape.KAFKA_TAPS_TOPIC,
});
export type ExportEnv = z.infer<typeof ExportEnv>;

export type ExportSettings = {
  operator: string;
  gzip: boolean;
  outDir: string;
  retry: { attempts: number; initialDelayMs: number; maxDelayMs: number };
  tapsTopic: string;
};

export function exportSettings(env: ExportEnv): ExportSettings {
  return {
    operator: env.EXPORT_OPERATOR,
    gzip: env.EXPORT_GZIP,
    outDir: env.EXPORT_DIR ?? join(localDir(), 'exports'),
    retry: {
      attempts: env.DELIVERY_ATTEMPTS,
      initialDelayMs: env.DELIVERY_BACKOFF_MS,
      maxDelayMs: env.DELIVERY_BACKOFF_MAX_MS,
    },
    tapsTopic: env.KAFKA_TAPS_TOPIC,
  };
}
