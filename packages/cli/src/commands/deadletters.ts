import { createDb } from '@boarding/db/client';
import type { Command } from 'commander';
import { emit, type GlobalOptions, table } from '../output';

/**
 * Raw dead-lettered bytes may hold anything a device or a person typed, TC and HES included:
 * mask every 11-digit run (TC-like) to its last 4 and every 10-character code (HES-like, with or
 * without dashes) to its last 2 before showing them.
 */
export function maskPersonalData(text: string): string {
  return text
    .replace(/(?<![0-9])[0-9]{11}(?![0-9])/g, (m) => `*******${m.slice(-4)}`)
    .replace(
      /(?<![A-Za-z0-9-])([A-Za-z0-9]{4})-?([A-Za-z0-9]{4})-?([A-Za-z0-9]{2})(?![A-Za-z0-9-])/g,
      (_m, _a, _b, c: string) => `****-****-${c}`,
    );
}

type Row = {
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  kafka_timestamp: Date;
  reason: string;
  detail: string;
  validator_id: string | null;
  seq: string | null;
  service_day: string;
};

export function registerDeadletters(program: Command): void {
  const dl = program.command('deadletters').description('read the dead-letter store (personal data masked)');

  dl.command('list')
    .description('dead letters, newest first')
    .option('--day <YYYY-MM-DD>', 'only this service day')
    .option('--reason <CODE>', 'only this reason')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'print as JSON')
    .action(async (options: GlobalOptions & { day?: string; reason?: string; limit: number }) => {
      const { pool } = createDb();
      try {
        const { rows } = await pool.query<Row>(
          `select topic, kafka_partition, kafka_offset, kafka_timestamp, reason, detail, validator_id, seq, service_day::text
           from dead_letters
           where ($1::date is null or service_day = $1::date) and ($2::text is null or reason = $2)
           order by kafka_timestamp desc, kafka_partition, kafka_offset limit $3`,
          [options.day ?? null, options.reason ?? null, options.limit],
        );
        const counts = await pool.query<{ reason: string; n: number }>(
          `select reason, count(*)::int as n from dead_letters
           where ($1::date is null or service_day = $1::date) group by reason order by reason`,
          [options.day ?? null],
        );
        const out = {
          byReason: Object.fromEntries(counts.rows.map((r) => [r.reason, r.n])),
          letters: rows.map((r) => ({
            id: `${r.kafka_partition}:${r.kafka_offset}`,
            topic: r.topic,
            kafkaTimestamp: r.kafka_timestamp.toISOString(),
            serviceDay: r.service_day,
            reason: r.reason,
            validatorId: r.validator_id,
            seq: r.seq === null ? null : Number(r.seq),
            detail: maskPersonalData(r.detail),
          })),
        };
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
    .option('--topic <topic>', 'the topic', 'validator.taps.v1')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: GlobalOptions & { topic: string }) => {
      const match = /^(\d+):(\d+)$/.exec(id);
      if (!match)
        throw new Error(`id must be partition:offset (e.g. 3:1200), got ${JSON.stringify(id.slice(0, 40))}`);
      const { pool } = createDb();
      try {
        const { rows } = await pool.query<Row & { message_key: Buffer | null; raw_value: Buffer | null }>(
          `select *, service_day::text from dead_letters where topic = $1 and kafka_partition = $2 and kafka_offset = $3`,
          [options.topic, Number(match[1]), Number(match[2])],
        );
        const r = rows[0];
        if (!r) throw new Error(`no dead letter ${id} on ${options.topic}`);
        const raw = r.raw_value ?? Buffer.alloc(0);
        const out = {
          id,
          topic: r.topic,
          kafkaTimestamp: r.kafka_timestamp.toISOString(),
          serviceDay: r.service_day,
          reason: r.reason,
          detail: maskPersonalData(r.detail),
          key: r.message_key ? maskPersonalData(r.message_key.toString('utf8')) : null,
          bytes: raw.length,
          // At most 2 KiB shown; the rest is in the store.
          value: maskPersonalData(raw.subarray(0, 2048).toString('utf8')),
        };
        emit(options, out, (o) =>
          [
            `${o.id} on ${o.topic} at ${o.kafkaTimestamp} (service day ${o.serviceDay})`,
            `reason: ${o.reason}: ${o.detail}`,
            `key: ${o.key ?? '(none)'}`,
            `value (${o.bytes} bytes${o.bytes > 2048 ? ', first 2048 shown' : ''}, masked):`,
            o.value,
          ].join('\n'),
        );
      } finally {
        await pool.end();
      }
    });
}
