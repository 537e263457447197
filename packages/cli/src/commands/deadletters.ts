import { KafkaEnv, loadEnv } from '@boarding/config/env';
import { maskCardNo } from '@boarding/contracts/mask';
import { createDb } from '@boarding/db/client';
import { listDeadLetters, SHOWN_BYTES, showDeadLetter } from '@boarding/ingest/dead-letters';
import type { Command } from 'commander';
import { UsageError, wholeNumber } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';

// A `cardNo` member of a JSON text (a tap as it came), whatever its value looks like.
const CARD_NO_MEMBER = /("cardNo"\s*:\s*")((?:[^"\\]|\\.)*)"/g;
// A standalone run of 8–20 hex characters with a digit in it: a card number (SPEC §2) outside
// a cardNo member (a malformed message, a key, a detail). Seqs and epoch times that long are
// masked too: a dead letter's seq is shown in its own column.
const CARD_LIKE = /(?<![0-9A-Za-z*])(?=[A-Fa-f]*[0-9])[0-9A-Fa-f]{8,20}(?![0-9A-Za-z])/g;
// A hex run cut by the 2 KiB limit could be the start of a card number.
const CUT_TAIL = /[0-9A-Fa-f]{1,20}$/;

/**
 * Card numbers in dead-letter text, masked like every other output (maskCardNo: at most the last
 * 4 shown). The ingest's reader masks TC and HES only; a card number with the tap history
 * identifies a traveller all the same.
 */
export function maskCardNumbers(text: string, cut = false): string {
  const masked = text
    .replace(CARD_NO_MEMBER, (_m, head: string, value: string) => `${head}${maskCardNo(value)}"`)
    .replace(CARD_LIKE, (m) => maskCardNo(m));
  return cut ? masked.replace(CUT_TAIL, (m) => '*'.repeat(m.length)) : masked;
}

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
        const listed = await listDeadLetters(pool, options);
        const out = {
          ...listed,
          letters: listed.letters.map((l) => ({ ...l, detail: maskCardNumbers(l.detail) })),
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
    .option('--topic <topic>', 'the topic (default: KAFKA_TAPS_TOPIC, validator.taps.v1)')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: GlobalOptions & { topic?: string }) => {
      const match = /^(\d+):(\d+)$/.exec(id);
      if (!match)
        throw new UsageError(
          `id must be partition:offset (e.g. 3:1200), got ${JSON.stringify(id.slice(0, 40))}`,
        );
      const topic = options.topic ?? loadEnv(KafkaEnv.pick({ KAFKA_TAPS_TOPIC: true })).KAFKA_TAPS_TOPIC;
      const { pool } = createDb();
      try {
        const found = await showDeadLetter(pool, {
          topic,
          partition: Number(match[1]),
          offset: Number(match[2]),
        });
        if (!found) throw new Error(`no dead letter ${id} on ${topic}`);
        const out = {
          ...found,
          detail: maskCardNumbers(found.detail),
          key: found.key === null ? null : maskCardNumbers(found.key),
          value: maskCardNumbers(found.value, found.bytes > SHOWN_BYTES),
        };
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
