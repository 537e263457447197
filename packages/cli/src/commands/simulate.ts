import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KafkaEnv, loadEnv } from '@boarding/config/env';
import { createKafka } from '@boarding/kafka/client';
import { type DayOptions, planDay } from '@boarding/simulator/day';
import { createKafkaSink, type ProduceReport, produceDay } from '@boarding/simulator/produce-day';
import { writeRegistryRowsCsv } from '@boarding/simulator/registry-csv';
import { type DayTruth, DEFAULT_FAULT_RATES, type FaultRates } from '@boarding/simulator/truth';
import { type Command, InvalidArgumentError } from 'commander';
import { emit, type GlobalOptions, progressLine } from '../output';
import { createProgressBar } from '../progress';

type SimulateOptions = GlobalOptions &
  FaultRates & {
    day: string;
    taps: number;
    seed: number;
    registryOut?: string;
    topic?: string;
    dryRun?: boolean;
    matchingDeadline?: string;
  };

export type SimulateResult = DayTruth & {
  planSeconds: number;
  registryOut: { file: string; rows: number } | null;
  produce: (ProduceReport & { topic: string }) | null;
};

/** A topic the run cannot write to: named, so the fix (create it, or --topic) is obvious. */
class TopicMissingError extends Error {
  readonly code = 'TOPIC_NOT_FOUND';
  readonly retryable = false;
}

const count = (value: string): number => {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
};
const seed = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
};
const share = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError('must be a share between 0 and 1, e.g. 0.01');
  }
  return n;
};

const instant = (value: string): string => {
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw new InvalidArgumentError(
      'must be an ISO 8601 instant with its offset, e.g. 2020-10-30T00:00:00+03:00',
    );
  }
  return value;
};

const int = (n: number): string => n.toLocaleString('en-US');

function human(r: SimulateResult): string {
  const malformed = Object.values(r.malformed).reduce((a, b) => a + b, 0);
  const dead = Object.values(r.expected.deadLettered).reduce((a, b) => a + b, 0);
  const byReason = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([k, v]) => `${k} ${int(v)}`)
      .join(', ');
  const lines = [
    r.produce
      ? `simulated ${r.day} (seed ${r.seed}): ${int(r.messages)} messages to ${r.produce.topic} in ${r.produce.seconds.toFixed(1)}s (${int(Math.round(r.produce.messagesPerSecond))} msg/s); planned in ${r.planSeconds.toFixed(1)}s`
      : `simulated ${r.day} (seed ${r.seed}): ${int(r.messages)} messages, not produced (--dry-run); planned in ${r.planSeconds.toFixed(1)}s`,
    `  taps ${int(r.taps)} (${int(r.uniqueTaps)} unique + ${int(r.duplicates)} duplicates), heartbeats ${int(r.heartbeats)}, malformed ${int(malformed)} (${byReason(r.malformed)})`,
    `  ${int(r.validators)} validators, ${int(r.cards)} cards, ${int(r.transfers)} transfers`,
    `  faults: clock drift ${int(r.drift)}, counter resets ${int(r.resets)}, late (uploaded after midnight) ${int(r.late)}, out of order ${int(r.outOfOrder)}`,
    r.registryOut
      ? `  registry: ${int(r.registryOut.rows)} rows written to ${r.registryOut.file}`
      : '  registry: not written (--registry-out FILE writes it; matched counts assume it is imported)',
    'expected of the ingest:',
    `  stored ${int(r.expected.stored)} (matched ${int(r.expected.matched)}, unmatched ${int(r.expected.unmatched)}; rejected by the validator ${int(r.expected.rejected)})`,
    `  duplicates ${int(r.expected.duplicates)}`,
    `  dead-lettered ${int(dead)}: ${byReason(r.expected.deadLettered)}`,
  ];
  return lines.join('\n');
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'produce a realistic synthetic service day to Kafka and print what the pipeline must make of it',
    )
    .requiredOption('--day <YYYY-MM-DD>', 'the service day (Europe/Istanbul date)')
    .requiredOption(
      '--taps <n>',
      'distinct taps the validators record (2000000 for the benchmark day)',
      count,
    )
    .option('--seed <s>', 'the same seed gives the same day, byte for byte', seed, 1)
    .option('--registry-out <file>', 'also write the registry import CSV the matched counts assume')
    .option('--topic <name>', 'Kafka topic to produce to (default: KAFKA_TAPS_TOPIC, validator.taps.v1)')
    .option('--duplicates <share>', 'share of taps sent again later', share, DEFAULT_FAULT_RATES.duplicates)
    .option(
      '--late <share>',
      'share of taps held on buses until after midnight',
      share,
      DEFAULT_FAULT_RATES.late,
    )
    .option(
      '--out-of-order <share>',
      'share of taps in a batch uploaded after the next one',
      share,
      DEFAULT_FAULT_RATES.outOfOrder,
    )
    .option('--drift <share>', 'share of taps with a drifted device clock', share, DEFAULT_FAULT_RATES.drift)
    .option(
      '--resets <share>',
      'share of taps reusing a seq after a counter reset',
      share,
      DEFAULT_FAULT_RATES.resets,
    )
    .option(
      '--malformed <share>',
      'malformed messages, as a share of taps (bad JSON, wrong type, unknown schema, > 16 KiB)',
      share,
      DEFAULT_FAULT_RATES.malformed,
    )
    .option(
      '--matching-deadline <instant>',
      'from this ISO 8601 instant on (e.g. 2020-10-30T00:00:00+03:00), validators check the HES status: every tap of an unmatched card is refused HES_NOT_MATCHED, of a risky one HES_RISKY',
      instant,
    )
    .option('--dry-run', 'plan the day, write the registry, print the truth; produce nothing')
    .option('--json', 'print the ground truth as one JSON object')
    .action(async (options: SimulateOptions) => {
      const { duplicates, late, outOfOrder, drift, resets, malformed } = options;
      const dayOptions: DayOptions = {
        day: options.day,
        taps: options.taps,
        seed: options.seed,
        faults: { duplicates, late, outOfOrder, drift, resets, malformed },
        ...(options.matchingDeadline === undefined ? {} : { matchingDeadline: options.matchingDeadline }),
      };
      // Settings are checked before minutes of work, not after.
      const env = options.dryRun ? null : loadEnv(KafkaEnv);
      progressLine('simulate', `planning ${options.day}: ${int(options.taps)} taps, seed ${options.seed}`);
      const planned = performance.now();
      const plan = planDay(dayOptions);
      const planSeconds = (performance.now() - planned) / 1000;

      let registryOut: SimulateResult['registryOut'] = null;
      if (options.registryOut) {
        const file = resolve(options.registryOut);
        const rows = await writeRegistryRowsCsv(file, plan.registryRows());
        registryOut = { file, rows };
        progressLine('simulate', `registry: ${int(rows)} rows written to ${file}`);
      }

      let produce: SimulateResult['produce'] = null;
      if (env) {
        const topic = options.topic ?? env.KAFKA_TAPS_TOPIC;
        const kafka = createKafka({
          brokers: env.KAFKA_BROKERS,
          clientId: `${env.KAFKA_CLIENT_ID}-simulate`,
        });
        await assertTopicExists(kafka, topic);
        const sink = createKafkaSink({ kafka, topic });
        const bar = createProgressBar('produce');
        await sink.connect();
        bar.start(plan.messageCount, 0, { phase: topic, rows: 0 });
        try {
          const report = await produceDay({
            plan,
            sink,
            onProgress: (sent) => bar.update(sent, { phase: topic, rows: sent }),
          });
          produce = { ...report, topic };
        } finally {
          bar.stop();
          await sink.disconnect();
        }
      }

      const result: SimulateResult = { ...plan.truth, planSeconds, registryOut, produce };
      emit(options, result, human);
    });
}

async function assertTopicExists(kafka: ReturnType<typeof createKafka>, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      throw new TopicMissingError(`topic ${topic} does not exist (create it, or pass --topic)`);
    }
  } finally {
    await admin.disconnect();
  }
}
