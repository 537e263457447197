/**
 * One `deliverDayExport` run (build and deliver by SFTP), in a process of its own so that its peak RSS
 * is the export's alone, not the bench's (which holds the simulated day). Wired like
 * `boarding export run`: settings from ExportEnv, the SFTP transport from SFTP_*, the keyring
 * from PII_KEY_FILE, all overridable in the environment. The transport is wrapped only to time
 * the delivery apart from the build. Prints one JSON line (`ExportChildResult`) on stdout.
 *
 * Run as `node --require tsx/cjs export-child.ts YYYY-MM-DD` (no tsx CLI in between, so the
 * process measured is the one that exported).
 */
import { performance } from 'node:perf_hooks';
import { DatabaseEnv, loadEnv, SftpEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { deliverDayExport } from '@boarding/delivery/deliver-day-export';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { ExportEnv, exportSettings } from '@boarding/export/settings';
import type { ExportChildResult } from './export-figures';

const ExportChildEnv = DatabaseEnv.extend(SftpEnv.shape).extend(ExportEnv.shape);

async function runExport(day: string): Promise<ExportChildResult> {
  const env = loadEnv(ExportChildEnv);
  const sftp = sftpTransportFromEnv(env);
  let deliverStart: number | undefined;
  let deliverEnd: number | undefined;
  // The peak RSS so far when delivery starts: the build's own peak, to tell which phase grows.
  let buildMaxRssKiB = 0;
  const transport: DeliveryTransport = {
    target: sftp.target,
    async deliver(files) {
      if (deliverStart === undefined) {
        deliverStart = performance.now();
        buildMaxRssKiB = process.resourceUsage().maxRSS;
      }
      try {
        await sftp.deliver(files);
      } finally {
        deliverEnd = performance.now();
      }
    },
  };
  const { pool } = createDb({ url: env.DATABASE_URL });
  // Where the memory is, when the peak RSS says it grows: the JS heap, or buffers outside it.
  const peak = { heapMiB: 0, externalMiB: 0 };
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapMiB = Math.max(peak.heapMiB, m.heapTotal / 2 ** 20);
    peak.externalMiB = Math.max(peak.externalMiB, (m.external + m.arrayBuffers) / 2 ** 20);
  }, 100);
  try {
    const started = performance.now();
    const result = await deliverDayExport(
      { pool, keyring: loadKeyring(), settings: exportSettings(env), transport },
      { day, deliver: true, trigger: 'bench' },
    );
    const finished = performance.now();
    if (deliverStart === undefined || deliverEnd === undefined) {
      throw new Error(`export ended ${result.outcome} without delivering`);
    }
    return {
      outcome: result.outcome,
      rows: result.manifest.rows,
      bytes: result.manifest.bytes,
      buildSeconds: (deliverStart - started) / 1000,
      deliverSeconds: (deliverEnd - deliverStart) / 1000,
      totalSeconds: (finished - started) / 1000,
      maxRssKiB: process.resourceUsage().maxRSS,
      buildMaxRssKiB,
      peakHeapMiB: peak.heapMiB,
      peakExternalMiB: peak.externalMiB,
    };
  } finally {
    clearInterval(sample);
    await pool.end();
  }
}

runExport(process.argv[2] ?? '').then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (err: unknown) => {
    process.stderr.write(`export-child: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
