import { KafkaEnv, loadEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { listDeadLetters, SHOWN_BYTES, showDeadLetter } from '@boarding/ingest/dead-letters';
import type { Command } from 'commander';
import { wholeNumber } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';

export function registerDeadletters(program: Command): void {
  const dl = program.command('deadletters').description('read the dead-letter store (personal data masked)');

  dl.command('list')
    .description('dead letters, newest first')
    .option('--day <YYYY-MM-DD>', 'only this service day')
    .option('--reason <CODE>', 'only this reason')
    .option('--limit <n>', 'at most this many', wholeNumber(1), 50)
    .option('--json', 'print as JSON')
    .action(async (options: GlobalOptions & { day?: string; reason?: string; limit: number }) => {
      const { pool } = createDb();
      try {
        const out = await listDeadLetters(pool, options);
        emit(options, out, (o) =>
          [
            `by reason: ${
              Object.entries(o.byReason)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || 'none'
            }`,
            table(
              ['id (partition:offset)', 'kafka time', 'day', 'reason', 'validator', 'seq', 'detail'],
              o.letters.map((l) => [
                l.id,
                l.kafkaTimestamp,
                l.serviceDay,
                l.reason,
                l.validatorId,
                l.seq,
                l.detail,
              ]),
            ),
            'show one with: boarding deadletters show <partition:offset>',
          ].join('\n'),
        );
      } finally {
        await pool.end();
      }
    });

  dl.command('show')
    .description('one dead letter with its raw value (masked)')
    .argument('<id>', 'partition:offset as listed')
    .option('--topic <topic>', 'the topic (default: KAFKA_TAPS_TOPIC, validator.taps.v1)')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: GlobalOptions & { topic?: string }) => {
      const match = /^(\d+):(\d+)$/.exec(id);
      if (!match)
        throw new Error(`id must be partition:offset (e.g. 3:1200), got ${JSON.stringify(id.slice(0, 40))}`);
      const topic = options.topic ?? loadEnv(KafkaEnv.pick({ KAFKA_TAPS_TOPIC: true })).KAFKA_TAPS_TOPIC;
      const { pool } = createDb();
      try {
        const out = await showDeadLetter(pool, {
          topic,
          partition: Number(match[1]),
          offset: Number(match[2]),
        });
        if (!out) throw new Error(`no dead letter ${id} on ${topic}`);
        emit(options, out, (o) =>
          [
            `${o.id} on ${o.topic} at ${o.kafkaTimestamp} (service day ${o.serviceDay})`,
            `reason: ${o.reason}: ${o.detail}`,
            `key: ${o.key ?? '(none)'}`,
            `value (${o.bytes} bytes${o.bytes > SHOWN_BYTES ? `, first ${SHOWN_BYTES} shown` : ''}, masked):`,
            o.value,
          ].join('\n'),
        );
      } finally {
        await pool.end();
      }
    });
}
