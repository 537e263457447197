/**
 * One half of loading a simulated day into a bench database (load-simulated-day.ts), in a
 * process of its own so that the two halves use both cores: sealing the registry and judging
 * the taps are each a long single-threaded JS loop, and in one process they took turns.
 * Each child plans the same day from the same seed (the simulator is deterministic).
 *
 *   node --require tsx/cjs load-day-child.ts registry|taps YYYY-MM-DD TAPS SEED
 *
 * DATABASE_URL names the bench database. Prints one JSON line (`LoadChildResult`) on stdout.
 */
import { performance } from 'node:perf_hooks';
import { DatabaseEnv, loadEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { planDay } from '@boarding/simulator/day';
import {
  checkSealedAsTheRegistryReadsIt,
  type LoadChildResult,
  loadRegistry,
  loadTaps,
} from './load-simulated-day';

async function load(part: string, day: string, taps: number, seed: number): Promise<LoadChildResult> {
  if (part !== 'registry' && part !== 'taps') throw new Error(`unknown part ${JSON.stringify(part)}`);
  const t0 = performance.now();
  const plan = planDay({ day, taps, seed });
  const planSeconds = (performance.now() - t0) / 1000;
  const { db, pool } = createDb({ url: loadEnv(DatabaseEnv).DATABASE_URL });
  try {
    const common = { part, expectedFileRows: plan.truth.expected.matched, planSeconds } as const;
    if (part === 'registry') {
      const keyring = loadKeyring();
      const loadSeconds = await loadRegistry(pool, keyring, plan);
      await checkSealedAsTheRegistryReadsIt(db, keyring, plan);
      return { ...common, rows: plan.truth.registryRows, loadSeconds };
    }
    const loaded = await loadTaps(pool, plan);
    return { ...common, rows: loaded.rows, loadSeconds: loaded.seconds };
  } finally {
    await pool.end();
  }
}

const [part = '', day = '', taps = '', seed = ''] = process.argv.slice(2);
load(part, day, Number(taps), Number(seed)).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (err: unknown) => {
    process.stderr.write(`load-day-child ${part}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
