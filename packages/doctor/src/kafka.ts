import { type GroupLag, groupLag, isTopicMissing } from '@boarding/ingest/catch-up';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { CHECK_LIMIT_MS, type Check, messageOf, timedCheck } from './check';
import { reachFix } from './reach-fix';

/** The brokers of KAFKA_BROKERS answer; `admin` is connected here and used by the next checks. */
export function checkKafka(
  admin: Admin,
  brokers: readonly string[],
  limitMs = CHECK_LIMIT_MS,
): Promise<Check> {
  const at = brokers.join(',');
  return timedCheck(
    'kafka',
    limitMs,
    async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return {
        ok: cluster.brokers.length > 0,
        detail: `${at} answers: ${cluster.brokers.length} broker(s), controller ${cluster.controller ?? 'none'}`,
      };
    },
    (err) => ({ ok: false, detail: messageOf(err), fix: reachFix(err, 'Kafka', 'KAFKA_BROKERS', at) }),
  );
}

const DAY_MS = 86_400_000;

/**
 * Shortest time retention accepted: `boarding replay` and the nightly re-export of the late window
 * (LATE_WINDOW_DAYS, 7 by default) re-read a week of taps from the topic.
 */
export const MIN_TAPS_RETENTION_MS = 8 * DAY_MS;

const retentionText = (ms: number) => (ms < 0 ? 'unlimited' : `${(ms / DAY_MS).toFixed(1)} days`);

/** The taps topic exists; its partitions and retention (time and size) are said. */
export function checkTapsTopic(admin: Admin, topic: string, limitMs = CHECK_LIMIT_MS): Promise<Check> {
  return timedCheck(
    'taps topic',
    limitMs,
    async () => {
      const topics = await admin.listTopics();
      if (!topics.includes(topic)) {
        return {
          ok: false,
          detail: `${topic} does not exist on the brokers`,
          fix: 'create it (locally: `boarding stack up`), or correct KAFKA_TAPS_TOPIC',
        };
      }
      const [meta, configs] = await Promise.all([
        admin.fetchTopicMetadata({ topics: [topic] }),
        admin.describeConfigs({
          includeSynonyms: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: topic,
              configNames: ['retention.ms', 'retention.bytes'],
            },
          ],
        }),
      ]);
      const partitions = meta.topics[0]?.partitions.length ?? 0;
      const entry = (name: string) =>
        configs.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
      const retentionMs = Number(entry('retention.ms') ?? '-1');
      const retentionBytes = Number(entry('retention.bytes') ?? '-1');
      const detail =
        `${topic}: ${partitions} partitions, retention ${retentionText(retentionMs)}` +
        `${retentionBytes < 0 ? '' : `, at most ${retentionBytes} bytes per partition`}`;
      if (retentionMs >= 0 && retentionMs < MIN_TAPS_RETENTION_MS) {
        return {
          ok: false,
          detail,
          fix: `raise retention.ms of ${topic} to at least ${MIN_TAPS_RETENTION_MS} (8 days): replay and the late window re-read a week of taps`,
        };
      }
      return { ok: true, detail };
    },
    (err) => ({
      ok: false,
      detail: messageOf(err),
      ...(isTopicMissing(err)
        ? { fix: 'create it (locally: `boarding stack up`), or correct KAFKA_TAPS_TOPIC' }
        : {}),
    }),
  );
}

/** `p0 0, p1 12, …`: the lag of each partition. */
export function lagByPartition(lag: GroupLag): string {
  return lag.partitions.map((p) => `p${p.partition} ${p.lag}`).join(', ');
}

/**
 * The ingest's consumer group: its state (Stable, Empty, Dead: never joined), members, and how far
 * behind it is per partition. Lag is information, not a failure: an ingest that is stopped or
 * catching up is not misconfigured. It fails only when the lag cannot be read.
 */
export function checkIngestGroup(
  admin: Admin,
  groupId: string,
  topic: string,
  limitMs = CHECK_LIMIT_MS,
): Promise<Check> {
  return timedCheck(
    'consumer group',
    limitMs,
    async () => {
      const [described, lag] = await Promise.all([
        admin.describeGroups([groupId]),
        groupLag(admin, groupId, topic),
      ]);
      const group = described.groups[0];
      const state = group?.state ?? 'Unknown';
      const members = group?.members.length ?? 0;
      return {
        ok: true,
        detail: `${groupId} on ${topic}: ${state}, ${members} member(s), lag ${lag.total} (${lagByPartition(lag)})`,
      };
    },
    (err) =>
      isTopicMissing(err)
        ? { ok: false, detail: `not checked: topic ${topic} does not exist` }
        : { ok: false, detail: messageOf(err) },
  );
}
