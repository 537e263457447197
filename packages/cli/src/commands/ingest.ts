import { loadEnv } from '@boarding/config/env';
import { IngestEnv } from '@boarding/ingest-service/env';
import { createIngestService } from '@boarding/ingest-service/ingest-service';
import { main as serveIngest } from '@boarding/ingest-service/main';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import type { Command } from 'commander';
import { emit, type GlobalOptions } from '../output';

type Totals = {
  consumed: number;
  stored: number;
  matched: number;
  duplicates: number;
  alreadyStored: number;
  deadLettered: Record<string, number>;
};

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'run the ingest consumer (Kafka → PostgreSQL); without --until-caught-up it runs until SIGTERM',
    )
    .option('--until-caught-up', 'exit 0 once the consumer group has no lag on any partition')
    .option('--json', 'print the final counts as JSON (with --until-caught-up)')
    .action(async (options: GlobalOptions & { untilCaughtUp?: boolean }) => {
      if (!options.untilCaughtUp) {
        await serveIngest();
        return;
      }
      const env = loadEnv(IngestEnv);
      // Logs stay quiet in a foreground run unless LOG_LEVEL says otherwise; progress is below.
      const logger = createLogger('ingest', { level: process.env.LOG_LEVEL ?? 'warn' });
      const shutdown = new ShutdownRegistry(logger);
      shutdown.listen();
      const totals: Totals = {
        consumed: 0,
        stored: 0,
        matched: 0,
        duplicates: 0,
        alreadyStored: 0,
        deadLettered: {},
      };
      const service = createIngestService(env, logger, shutdown, {
        onChunk: (r) => {
          totals.consumed += r.consumed;
          totals.stored += r.stored;
          totals.matched += r.matched;
          totals.duplicates += r.duplicates;
          totals.alreadyStored += r.alreadyStored;
          for (const [k, v] of Object.entries(r.deadLettered))
            totals.deadLettered[k] = (totals.deadLettered[k] ?? 0) + v;
        },
      });
      const started = Date.now();
      await service.start({ http: false });
      try {
        await service.untilCaughtUp({
          intervalMs: 1000,
          onTick: (lag) => {
            const secs = (Date.now() - started) / 1000;
            process.stderr.write(
              `ingest: ${totals.consumed} consumed (${Math.round(totals.consumed / secs)}/s), ${totals.stored} stored, ${totals.duplicates} duplicates, ${sum(totals.deadLettered)} dead-lettered, lag ${lag.total}\n`,
            );
          },
        });
      } catch (err) {
        await shutdown.stop().catch(() => undefined);
        throw err;
      }
      await shutdown.stop();
      const result = { ...totals, lag: 0, seconds: (Date.now() - started) / 1000 };
      emit(options, result, (r) =>
        [
          `caught up in ${r.seconds.toFixed(1)}s: ${r.consumed} messages consumed`,
          `  ${r.stored} taps stored (${r.matched} matched, ${r.stored - r.matched} unmatched), ${r.duplicates} duplicates, ${r.alreadyStored} already stored`,
          `  dead-lettered: ${sum(r.deadLettered)}${
            Object.keys(r.deadLettered).length
              ? ` (${Object.entries(r.deadLettered)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ')})`
              : ''
          }`,
        ].join('\n'),
      );
    });
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
