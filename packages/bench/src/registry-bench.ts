import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { importMatches } from '@boarding/registry/import/import-matches';
import { findMatchAt } from '@boarding/registry/verbs/find-match-at';
import { syntheticCardNo } from '@boarding/simulator/identities';
import { Random } from '@boarding/simulator/random';
import { writeRegistryCsv } from '@boarding/simulator/registry-csv';
import { createTestDatabase } from '@boarding/testing/database';
import { from as copyFrom } from 'pg-copy-streams';
import type { Bench } from './harness';

/** SPEC §1: about 1.2 M matched cards. `--taps N` imports N cards instead. */
const DEFAULT_CARDS = 1_200_000;
const LOOKUPS = 20_000;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/**
 * The registry: `boarding registry import` of a generated file (one transaction, sealing,
 * overlap checks, exclusion constraints) against a raw COPY of the same file into an unindexed
 * table, then random `findMatchAt` lookups over the imported matches.
 */
export const registryBench: Bench = {
  name: 'registry',
  description: 'bulk import of ~1.2 M matches vs raw COPY of the same rows; findMatchAt latency',
  async run(ctx) {
    const cards = ctx.options.taps ?? DEFAULT_CARDS;
    const dir = await mkdtemp(join(tmpdir(), 'bench-registry-'));
    const removeDir = ctx.cleanup('temp dir', () => rm(dir, { recursive: true, force: true }));
    const database = await createTestDatabase('bench_registry');
    const dropDb = ctx.cleanup('bench database', () => database.drop());
    try {
      const file = join(dir, 'registry.csv');
      ctx.progress(`generating ${cards} cards of history into ${file}`);
      const rows = await writeRegistryCsv(file, { cards, seed: 7 });

      ctx.progress('bound: COPY of the same file into an unindexed unlogged table');
      const client = await database.pool.connect();
      let copySeconds: number;
      try {
        await client.query(
          'create unlogged table bench_copy (card_no text, tc_kimlik_no text, hes_code text, card_kind text, valid_from timestamptz, valid_to timestamptz)',
        );
        const t0 = process.hrtime.bigint();
        await pipeline(
          createReadStream(file),
          client.query(copyFrom('copy bench_copy from stdin (format csv, header)')),
        );
        copySeconds = Number(process.hrtime.bigint() - t0) / 1e9;
        await client.query('drop table bench_copy');
      } finally {
        client.release();
      }

      ctx.progress(`importing ${rows} rows with the import path (one transaction)`);
      const keyring = loadKeyring();
      const registry = { db: database.db, keyring, actor: { id: 'bench', channel: 'IMPORT' as const } };
      let lastPhase = '';
      let applyingAt: bigint | undefined;
      const t1 = process.hrtime.bigint();
      const report = await importMatches({
        ctx: registry,
        pool: database.pool,
        input: { path: file },
        onProgress: (p) => {
          if (p.phase !== lastPhase) {
            lastPhase = p.phase;
            if (p.phase === 'applying') applyingAt = process.hrtime.bigint();
            ctx.progress(
              `import: ${p.phase} after ${(Number(process.hrtime.bigint() - t1) / 1e9).toFixed(1)}s`,
            );
          }
        },
      });
      const importEnd = process.hrtime.bigint();
      const importSeconds = Number(importEnd - t1) / 1e9;
      if (report.outcome !== 'APPLIED')
        throw new Error(`import ended ${report.outcome} with ${report.invalid} invalid rows`);
      const copyRate = rows / copySeconds;
      ctx.record({ figure: 'import', value: rows / importSeconds, unit: 'rows/s', bound: copyRate });
      ctx.record({ figure: 'import-time', value: importSeconds, unit: 's' });
      // A clean file goes in while it is read (the streaming path), so what is left after the
      // 'applying' phase starts is the run's record and COMMIT, where the deferred card status
      // trigger recomputes every imported card: a cost of its own, worth seeing apart.
      if (applyingAt !== undefined) {
        ctx.record({ figure: 'import-after-apply', value: Number(importEnd - applyingAt) / 1e9, unit: 's' });
      }

      ctx.progress(`${LOOKUPS} random findMatchAt lookups`);
      const random = new Random(11);
      const until = Date.parse('2020-11-20T00:00:00+03:00');
      const latencies: number[] = [];
      let found = 0;
      const t2 = process.hrtime.bigint();
      for (let i = 0; i < LOOKUPS; i++) {
        const cardNo = syntheticCardNo(random.int(0, cards - 1));
        const at = new Date(until - random.int(0, 15 * 86_400_000));
        const s = process.hrtime.bigint();
        if (await findMatchAt({ ctx: registry, input: { cardNo, at } })) found++;
        latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      const lookupSeconds = Number(process.hrtime.bigint() - t2) / 1e9;
      latencies.sort((a, b) => a - b);
      ctx.record({ figure: 'lookup-p50', value: percentile(latencies, 0.5), unit: 'ms' });
      ctx.record({ figure: 'lookup-p99', value: percentile(latencies, 0.99), unit: 'ms' });
      ctx.record({ figure: 'lookups', value: LOOKUPS / lookupSeconds, unit: 'lookups/s' });
      ctx.progress(`${found} of ${LOOKUPS} lookups found a match`);
    } finally {
      await dropDb();
      await removeDir();
    }
  },
};
