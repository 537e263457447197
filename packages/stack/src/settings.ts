import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { findRepoRoot, localDir } from '@boarding/config/paths';
import { VALIDATOR_TAPS_TOPIC } from '@boarding/contracts/tap';
import { z } from 'zod';

// Ports of the private stack. Non-default on purpose: the machine may run its own PostgreSQL on
// 5432 and Redis on 6379, which the project must never use or disturb.
const StackPorts = z.object({
  BOARDING_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(15432),
  BOARDING_REDIS_PORT: z.coerce.number().int().min(1024).max(65535).default(16379),
  BOARDING_KAFKA_PORT: z.coerce.number().int().min(1024).max(65535).default(19092),
  // KRaft controller listener; clients never use it.
  BOARDING_KAFKA_CONTROLLER_PORT: z.coerce.number().int().min(1024).max(65535).default(19093),
  BOARDING_SFTP_PORT: z.coerce.number().int().min(1024).max(65535).default(12222),
  BOARDING_KAFKA_HEAP_MB: z.coerce.number().int().min(256).max(8192).default(512),
  // Partitions of validator.taps.v1: the unit of ingest parallelism.
  BOARDING_TAPS_PARTITIONS: z.coerce.number().int().min(1).max(256).default(12),
});

export type StackSettings = {
  root: string;
  local: string;
  infra: string;
  /** Where files that a system daemon must reach under strict path rules live (see below). */
  systemDir: string;
  isRoot: boolean;
  ports: { pg: number; redis: number; kafka: number; kafkaController: number; sftp: number };
  kafkaHeapMb: number;
  tapsPartitions: number;
  /** The taps topic the stack creates and writes to `.local/stack.env`: always its own default. */
  tapsTopic: string;
  /**
   * Another taps topic named by KAFKA_TAPS_TOPIC in the caller's shell: created for this run only,
   * never written to `.local/stack.env`. Incident: one `stack up` with it set wrote it there, and
   * every later command read that topic instead of the stack's.
   */
  shellTapsTopic: string | null;
};

export function stackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const parsed = StackPorts.parse(env);
  const root = findRepoRoot();
  const local = localDir(root);
  const hash = createHash('sha256').update(local).digest('hex').slice(0, 10);
  return {
    root,
    local,
    infra: join(root, 'infra'),
    // sshd's ChrootDirectory demands root-owned, non-writable path components all the way up,
    // and the unprivileged PostgreSQL user must be able to reach its data directory. A checkout
    // under /tmp or /root meets neither; then those directories live here instead.
    systemDir: join('/var/lib/boarding-stack', hash),
    isRoot: process.getuid?.() === 0,
    ports: {
      pg: parsed.BOARDING_PG_PORT,
      redis: parsed.BOARDING_REDIS_PORT,
      kafka: parsed.BOARDING_KAFKA_PORT,
      kafkaController: parsed.BOARDING_KAFKA_CONTROLLER_PORT,
      sftp: parsed.BOARDING_SFTP_PORT,
    },
    kafkaHeapMb: parsed.BOARDING_KAFKA_HEAP_MB,
    tapsPartitions: parsed.BOARDING_TAPS_PARTITIONS,
    tapsTopic: VALIDATOR_TAPS_TOPIC,
    shellTapsTopic:
      env.KAFKA_TAPS_TOPIC && env.KAFKA_TAPS_TOPIC !== VALIDATOR_TAPS_TOPIC ? env.KAFKA_TAPS_TOPIC : null,
  };
}
