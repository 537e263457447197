import { DatabaseEnv, KafkaEnv, loadEnv, SftpEnv } from '@boarding/config/env';
import { sftpSettingsFromEnv } from '@boarding/sftp/connect';
import type { Cleanups } from './cleanups';
import { type MachineLimits, memoiseBySize } from './harness';
import { type KafkaLimits, measureKafka } from './measure-kafka';
import { measurePgCopy } from './measure-pg-copy';
import { measureSftpUpload } from './measure-sftp-upload';

/** What the limit measurements read from the environment (or `.local/stack.env`). */
export const LimitsEnv = DatabaseEnv.extend(KafkaEnv.shape).extend(SftpEnv.shape);

/**
 * The real machine limits against the local stack. The environment is read on first use, so a
 * bench that never asks for a bound needs no stack settings at all.
 */
export function createMachineLimits(deps: {
  cleanups: Cleanups;
  progress: (message: string) => void;
}): MachineLimits {
  let env: ReturnType<typeof loadEnv<typeof LimitsEnv>> | undefined;
  const settings = () => {
    env ??= loadEnv(LimitsEnv);
    return env;
  };
  const cleanup = (label: string, undo: () => Promise<void>) => deps.cleanups.add(label, undo);

  // Produce and consume share one topic: asking for either measures both, once per size.
  const kafka = memoiseBySize<KafkaLimits>((messages) =>
    measureKafka({ brokers: settings().KAFKA_BROKERS, messages, progress: deps.progress, cleanup }),
  );

  return {
    kafkaProduce: (messages) => kafka(messages).then((k) => k.produce),
    kafkaConsume: (messages) => kafka(messages).then((k) => k.consume),
    pgCopy: memoiseBySize((rows) =>
      measurePgCopy({ databaseUrl: settings().DATABASE_URL, rows, progress: deps.progress, cleanup }),
    ),
    sftpUpload: memoiseBySize((bytes) => {
      const { remoteDir, ...sftp } = sftpSettingsFromEnv(settings());
      return measureSftpUpload({
        sftp,
        remoteDir,
        bytes,
        progress: deps.progress,
        cleanup,
      });
    }),
  };
}
