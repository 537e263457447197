import type { Bench } from './harness';

/** The default sizes of a full run; `--taps N` scales all three by N / 200,000. */
export const DEFAULT_TAPS = 200_000;
const ROWS_PER_TAP = 5;
const BYTES_PER_TAP = 1000;

/**
 * The sizes the limits are measured at for `--taps N` (N messages, 5·N rows, N kB), so that a
 * later bench run with the same `--taps` gets the memoised figures of this bench as its bounds.
 */
export function limitSizes(taps: number = DEFAULT_TAPS): { messages: number; rows: number; bytes: number } {
  return { messages: taps, rows: taps * ROWS_PER_TAP, bytes: taps * BYTES_PER_TAP };
}

/**
 * The machine's own limits, measured now: what raw Kafka, PostgreSQL COPY and SFTP can do on this
 * machine with this stack. They are the bounds the pipeline's benches are divided by.
 */
export const limitsBench: Bench = {
  name: 'limits',
  description: 'raw kafkajs produce/consume, PostgreSQL COPY and SFTP upload on this machine (the bounds)',
  async run(ctx) {
    const size = limitSizes(ctx.options.taps);
    const produce = await ctx.limits.kafkaProduce(size.messages);
    ctx.record({ figure: 'kafka-produce', value: produce.value, unit: produce.unit });
    const consume = await ctx.limits.kafkaConsume(size.messages);
    ctx.record({ figure: 'kafka-consume', value: consume.value, unit: consume.unit });
    const copy = await ctx.limits.pgCopy(size.rows);
    ctx.record({ figure: 'pg-copy', value: copy.value, unit: copy.unit });
    const upload = await ctx.limits.sftpUpload(size.bytes);
    ctx.record({ figure: 'sftp-upload', value: upload.value, unit: upload.unit });
  },
};
