import { DatabaseEnv, KafkaEnv, loadEnv, RedisEnv, SftpEnv } from '@boarding/config/env';
import { z } from 'zod';

/** The local stack's settings as integration tests see them (from `.local/stack.env`). */
export const TestEnv = DatabaseEnv.extend(RedisEnv.shape)
  .extend(KafkaEnv.shape)
  .extend(SftpEnv.shape)
  .extend({ SFTP_LOCAL_INCOMING: z.string().min(1) });
export type TestEnv = z.infer<typeof TestEnv>;

export const testEnv = (): TestEnv => loadEnv(TestEnv);
