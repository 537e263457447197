import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadEnv, SftpEnv } from '@boarding/config/env';
import { localDir } from '@boarding/config/paths';
import { DAY_MS, serviceDayStartMs } from '@boarding/contracts/time';
import { recreateDatabase } from '@boarding/db/admin';
import { createKafka } from '@boarding/kafka/client';
import { connectPinnedSftp, sftpSettingsFromEnv } from '@boarding/sftp/connect';
import { Pool } from 'pg';
import {
  type ChaosContext,
  ExportRuns,
  emptyCounts,
  runChaos,
  runExportTriggers,
  seededRandom,
} from './soak-chaos';
import {
  checkVersions,
  countDifferences,
  type DayCounts,
  type LedgerAttempt,
  type LedgerVersion,
  verdict,
} from './soak-checks';
import { endOffsets, PacedFeed, readTopic } from './soak-feed';
import { BoardingCommandError, lastJson, loggedErrors, runBoarding, SupervisedService } from './soak-process';
import { ReceiverWatch, UploadSpy } from './soak-receiver';
import type { SoakReport } from './soak-report';
import { assertApartFromMainStack, defaultSoakDay, mainStack, type SoakOptions } from './soak-settings';
import {
  ensureServersRunning,
  enterSoakStack,
  restartServer,
  seedKafkaJars,
  soakStackEnv,
  soakStackStatus,
  soakStackUp,
  soakStackVariables,
  withoutProductVariables,
} from './soak-stack';

export type SoakHooks = {
  /** One human line: what the soak just did (stderr). */
  progress: (message: string) => void;
  /** Aborted on SIGINT/SIGTERM: the chaos stops, children are killed, the stack goes down. */
  signal: AbortSignal;
};

const REFERENCE_DB = 'soak_reference';
const DISTURBED_DB = 'soak_disturbed';
const TOPIC_PREFIX = 'soak.';
const PARTITIONS = 12;
/** Share of the chaos during which the day's messages are fed (the rest: a settled day). */
const FEED_SHARE = 2 / 3;

type Manifest = { sha256: string; bytes: number; rows: number };
type ExportResult = { outcome: string; version: number; filePath: string; manifest: Manifest };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The bounded soak (issue 12): a simulated faulty day ingested and exported undisturbed for a
 * reference, then the very same messages fed again, at a day's pace, into a fresh topic read
 * by a fresh database, group, queue and remote directory, with `boarding serve ingest` and
 * `boarding serve exporter` running while servers are restarted and services killed at random. After the chaos: the ingest catches up, the
 * day is exported once more, and the receiver's latest file must be the reference's bytes,
 * no version number may have named two contents, every offset must have its record.
 * Everything runs on a private stack (own directory and ports): the main stack is never touched.
 */
export async function runSoak(options: SoakOptions, hooks: SoakHooks): Promise<SoakReport> {
  const started = Date.now();
  const say = hooks.progress;
  const mainDir = localDir();
  const mainEnvFile = join(mainDir, 'stack.env');
  const main = mainStack(
    process.env,
    existsSync(mainEnvFile) ? readFileSync(mainEnvFile, 'utf8') : undefined,
  );
  assertApartFromMainStack({ dir: options.dir, ports: options.ports }, main);
  enterSoakStack(options.dir, options.ports);
  mkdirSync(options.dir, { recursive: true, mode: 0o755 });
  if (seedKafkaJars(options.dir, main.dir)) say(`kafka jars linked from ${join(main.dir, 'kafka', 'libs')}`);
  await assertPortsFree();
  say(`soak stack in ${options.dir} (ports ${Object.values(options.ports).join(', ')}): starting`);
  const up = await soakStackUp((server, message) => say(`${server}: ${message}`));
  say(`soak stack up in ${(up.ms / 1000).toFixed(1)}s`);
  const stackEnv = soakStackEnv(options.dir);

  const runId = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const runDir = join(options.dir, 'runs', runId);
  const logs = join(runDir, 'logs');
  removeOldRuns(join(options.dir, 'runs'));
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  const log = (name: string) => join(logs, `${name}.log`);

  const base: Record<string, string> = {
    ...withoutProductVariables(process.env),
    ...soakStackVariables(options.dir, options.ports),
    ...stackEnv,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
  const adminUrl = required(stackEnv, 'DATABASE_URL');
  const dbUrl = (name: string) => {
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const brokers = required(stackEnv, 'KAFKA_BROKERS').split(',');
  const kafka = createKafka({ brokers, clientId: 'boarding-soak' });
  const topics = {
    reference: `${TOPIC_PREFIX}reference.${runId}`,
    disturbed: `${TOPIC_PREFIX}disturbed.${runId}`,
  };
  await freshTopics(kafka, Object.values(topics));
  await recreateDatabase(adminUrl, REFERENCE_DB);
  await recreateDatabase(adminUrl, DISTURBED_DB);
  const remote = await freshRemoteDir(stackEnv, runId);
  say(
    `run ${runId}: databases ${REFERENCE_DB}, ${DISTURBED_DB}; topics ${Object.values(topics).join(', ')}; remote ${remote.remoteDir}; logs ${logs}`,
  );

  // 1. The undisturbed reference.
  const reference = {
    ...base,
    DATABASE_URL: dbUrl(REFERENCE_DB),
    KAFKA_TAPS_TOPIC: topics.reference,
    INGEST_GROUP_ID: `soak-reference-${runId}`,
    EXPORT_DIR: join(runDir, 'reference'),
  };
  const day = options.day;
  const registryFile = join(runDir, 'registry.csv');
  say(
    `undisturbed run: migrate, simulate ${day} (${options.taps} taps, seed ${options.seed}), import, ingest, export`,
  );
  await runBoarding(['migrate'], reference, log('reference-migrate'));
  const truth = lastJson<{ taps: number; messages: number }>(
    await runBoarding(
      [
        'simulate',
        '--day',
        day,
        '--taps',
        String(options.taps),
        '--seed',
        String(options.seed),
        '--registry-out',
        registryFile,
        '--json',
      ],
      reference,
      log('reference-simulate'),
    ),
    'simulate',
  );
  await runBoarding(
    ['registry', 'import', registryFile, '--actor', 'soak', '--json'],
    reference,
    log('reference-import'),
  );
  const refIngest = lastJson<{ seconds: number }>(
    await runBoarding(
      ['ingest', '--until-caught-up', '--timeout', '3600', '--json'],
      reference,
      log('reference-ingest'),
    ),
    'ingest',
  );
  const refExport = lastJson<ExportResult>(
    await runBoarding(
      ['export', 'run', '--day', day, '--no-deliver', '--out', join(runDir, 'reference'), '--json'],
      reference,
      log('reference-export'),
    ),
    'export run',
  );
  const refBytes = readFileSync(refExport.filePath);
  const refSha = sha256(refBytes);
  say(
    `undisturbed: ${truth.messages} messages, ingested in ${refIngest.seconds.toFixed(1)}s; file ${refExport.manifest.rows} rows, ${refBytes.length} bytes, sha256 ${refSha.slice(0, 16)}…`,
  );

  // 2. The same day again, under chaos.
  const yesterday = defaultSoakDay();
  const behind = Math.round((serviceDayStartMs(yesterday) - serviceDayStartMs(day)) / DAY_MS);
  // The exporter's nightly job exports yesterday and re-checks LATE_WINDOW_DAYS before it: the
  // day must be among those for the service to export it by itself.
  const inSchedule = behind >= 0 && behind < 60;
  if (!inSchedule)
    say(
      `${day} is outside the exporter's schedule (yesterday ${yesterday} − 60 days): only export runs will deliver it`,
    );
  const disturbedDb = dbUrl(DISTURBED_DB);
  const disturbedGroup = `soak-disturbed-${runId}`;
  const disturbed: Record<string, string> = {
    ...base,
    DATABASE_URL: disturbedDb,
    KAFKA_TAPS_TOPIC: topics.disturbed,
    INGEST_GROUP_ID: disturbedGroup,
    EXPORT_DIR: join(runDir, 'disturbed'),
    EXPORT_QUEUE_PREFIX: `soak-${runId}`,
    SFTP_REMOTE_DIR: remote.remoteDir,
    // Fire every minute; the deadline (00:00 on the morning after D) has always passed for
    // yesterday, so each firing delivers what is stored then, as a night whose deadline came
    // while the ingest was behind: the case that makes new versions.
    EXPORT_CRON: '* * * * *',
    EXPORT_DEADLINE: '00:00',
    EXPORT_RECHECK_MINUTES: '0.25',
    // One day more than needed: a run across midnight in Istanbul makes D the day before yesterday.
    LATE_WINDOW_DAYS: String(inSchedule ? behind + 1 : 0),
    EXPORT_JOB_BACKOFF_MS: '5000',
    DELIVERY_BACKOFF_MS: '1000',
    DELIVERY_BACKOFF_MAX_MS: '8000',
    // A killed ingest's partitions move to its successor after this long (broker minimum 6 s).
    INGEST_SESSION_TIMEOUT_MS: '10000',
    INGEST_PORT: '0',
    EXPORTER_PORT: '0',
  };
  say('soak run: migrate, import the same registry, read the undisturbed topic to feed it again');
  await runBoarding(['migrate'], disturbed, log('disturbed-migrate'));
  await runBoarding(
    ['registry', 'import', registryFile, '--actor', 'soak', '--json'],
    disturbed,
    log('disturbed-import'),
  );
  // The very messages of the undisturbed run (same partitions, bytes and Kafka timestamps), fed
  // again during the chaos at the pace of a day compressed into its first FEED_SHARE: the ingest
  // works through the faults, and each export sees more of the day (a new version) until the
  // feed ends; the rest of the chaos hits a day whose content no longer changes.
  const feed = new PacedFeed(
    kafka,
    topics.disturbed,
    await readTopic(kafka, topics.reference, `soak-feed-${runId}`),
    (m) => say(m),
  );

  const pool = new Pool({ connectionString: disturbedDb, max: 2, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  const watch = new ReceiverWatch(remote.localDir, day);
  const uploads = new UploadSpy(remote.localDir);
  const counts = emptyCounts();
  const ingest = new SupervisedService('ingest', ['serve', 'ingest', '--port', '0'], disturbed, logs, (m) =>
    say(m),
  );
  const exporter = new SupervisedService(
    'exporter',
    ['serve', 'exporter', '--port', '0'],
    disturbed,
    logs,
    (m) => say(m),
  );
  const exportRuns = new ExportRuns(day, disturbed, logs, counts, (m) => say(m));
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  hooks.signal.addEventListener('abort', onAbort);
  try {
    watch.start(1000);
    uploads.start();
    ingest.start();
    exporter.start();
    const chaosStart = Date.now();
    say(
      `chaos for ${options.minutes} min (seed ${options.chaosSeed}) on ${options.servers.join(', ')}, ingest, exporter, export runs`,
    );
    const ctx: ChaosContext = {
      rand: seededRandom(options.chaosSeed),
      servers: options.servers,
      until: chaosStart + options.minutes * 60000,
      signal: abort.signal,
      restart: (server, o) => restartServer(server, o),
      services: { ingest, exporter },
      exportRuns,
      nextUpload: (timeoutMs, signal) => uploads.next(timeoutMs, signal),
      // Once every message is in, the content stops changing soon after.
      contentSettled: () => feed.stats.sent === feed.stats.total,
      counts,
      progress: (m) => say(m),
    };
    say(
      `feed: ${feed.stats.total} messages into ${topics.disturbed} over ${(options.minutes * FEED_SHARE).toFixed(1)} min`,
    );
    const failFast = (err: unknown) => {
      abort.abort();
      throw err;
    };
    await Promise.all([
      runChaos(ctx).catch(failFast),
      runExportTriggers(ctx, seededRandom(options.chaosSeed + 1)),
      feed
        .run(chaosStart + options.minutes * 60000 * FEED_SHARE, abort.signal)
        .then(() =>
          say(
            `feed: all ${feed.stats.sent} messages in (${feed.stats.inDoubt} sends in doubt, ${feed.stats.resent} sent again)`,
          ),
        )
        .catch(failFast),
    ]);

    if (hooks.signal.aborted) throw new Error('interrupted');
    const chaosMinutes = (Date.now() - chaosStart) / 60000;

    // 3. Settle: every server up, both services running, the ingest caught up, then the
    //    exporter left alone to export the day (its next firing), then one more export run.
    say('chaos over: settling (servers up, services running, ingest catching up)');
    const settleStart = Date.now();
    const settleUntil = settleStart + options.settleMinutes * 60000;
    const restarted = await ensureServersRunning();
    const [refEnds, runEnds] = [
      await endOffsets(kafka, topics.reference),
      await endOffsets(kafka, topics.disturbed),
    ];
    const fedExactly = [...refEnds].every(([p, end]) => runEnds.get(p) === end);
    if (!fedExactly)
      throw new Error('the feed did not copy the undisturbed topic exactly (a harness fault): no comparison');
    if (restarted.length > 0) say(`started again: ${restarted.join(', ')}`);
    ingest.start();
    exporter.start();
    await exportRuns.idle();
    const caughtUpAt = await waitForNoLag(
      kafka,
      topics.disturbed,
      disturbedGroup,
      settleUntil,
      say,
      hooks.signal,
    );
    let exporterSettled: boolean | null = null;
    if (inSchedule) {
      exporterSettled = await waitForExporter(pool, day, refSha, caughtUpAt, settleUntil, say, hooks.signal);
    }
    const stops = { ingest: await ingest.stop(), exporter: await exporter.stop() };
    say(`services stopped (ingest ${stops.ingest}, exporter ${stops.exporter}); final export run`);
    const final = lastJson<ExportResult>(
      await runBoarding(['export', 'run', '--day', day, '--json'], disturbed, log('final-export')),
      'export run',
    );
    say(`final export run: ${final.outcome} v${final.version}`);
    const reconcile = lastJson<{
      totals: { messages: number; taps: number; unaccounted: number; doubled: number };
    }>(
      await runBoarding(['ingest', 'reconcile', '--json'], disturbed, log('final-reconcile')).catch(
        (err: unknown) => {
          // reconcile exits 1 when offsets are unaccounted; its JSON is still on stdout.
          if (err instanceof BoardingCommandError && err.stdout.trim() !== '') return err.stdout;
          throw err;
        },
      ),
      'ingest reconcile',
    ).totals;
    await watch.poll();
    await watch.stop();
    const receiver = watch.result();
    const findings = checkVersions({
      versions: await readVersions(pool, day),
      attempts: await readAttempts(pool, day),
      receiver,
    });
    const latestBytes = findings.latest ? readFileSync(join(remote.localDir, findings.latest.file)) : null;
    const bytesEqual = latestBytes?.equals(refBytes) ?? false;
    const refCounts = await readCounts(dbUrl(REFERENCE_DB), refExport.manifest.rows);
    const runCounts = await readCounts(disturbedDb, final.manifest.rows);
    const differences = countDifferences(refCounts, runCounts);
    const unexpectedExits = [...ingest.unexpectedExits, ...exporter.unexpectedExits];
    const v = verdict({
      bytesEqual,
      findings,
      unaccounted: reconcile.unaccounted,
      doubled: reconcile.doubled,
      countDifferences: differences,
      exporterSettled,
      unexpectedExits: unexpectedExits.length,
    });
    return {
      ok: v.ok,
      failures: v.failures,
      warnings: [
        ...v.warnings,
        ...counts.errors,
        ...(counts.exportRuns.hung > 0
          ? [`${counts.exportRuns.hung} export run(s) hung and were killed`]
          : []),
      ],
      day,
      seed: options.seed,
      chaosSeed: options.chaosSeed,
      tapsSimulated: truth.taps,
      minutes: { chaos: chaosMinutes, total: (Date.now() - started) / 60000 },
      servers: options.servers,
      chaos: counts,
      feed: feed.stats,
      unexpectedExits,
      serviceErrors: loggedErrors(logs, ['ingest', 'exporter']),
      reference: {
        sha256: refSha,
        bytes: refBytes.length,
        rows: refExport.manifest.rows,
        ingestSeconds: refIngest.seconds,
      },
      final: {
        outcome: final.outcome,
        version: findings.latest?.version ?? null,
        file: findings.latest?.file ?? null,
        sha256: findings.latest?.sha256 ?? null,
        bytes: latestBytes?.length ?? null,
        bytesEqual,
      },
      versions: findings,
      reconcile,
      counts: { reference: refCounts, disturbed: runCounts, differences },
      exporterSettled,
      settleSeconds: (Date.now() - settleStart) / 1000,
      receiver: {
        dir: remote.localDir,
        partialsLeft: receiver.partialsNow,
        partialsMax: receiver.partialsMax,
        polls: receiver.polls,
      },
      logs,
    };
  } finally {
    hooks.signal.removeEventListener('abort', onAbort);
    abort.abort();
    await watch.stop();
    uploads.stop();
    await Promise.all([ingest.stop(5000), exporter.stop(5000), exportRuns.kill()]);
    await pool.end().catch(() => undefined);
  }
}

function required(env: Record<string, string>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`the soak stack's stack.env has no ${name}`);
  return value;
}

/** A server of the soak stack that is not running must find its port free (nobody else's). */
async function assertPortsFree(): Promise<void> {
  const { connect } = await import('node:net');
  const open = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setTimeout(1000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  for (const s of await soakStackStatus()) {
    if (!s.running && (await open(s.port))) {
      throw new Error(`port ${s.port} (soak ${s.server}) is taken by another process: set SOAK_*_PORT`);
    }
  }
}

/** Runs are kept until the next one starts (their logs, the reference file). */
function removeOldRuns(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

/** Retried: a broker that has just started may answer "does not host this topic-partition". */
async function freshTopics(kafka: ReturnType<typeof createKafka>, topics: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await createFreshTopics(kafka, topics);
    } catch (err) {
      if (attempt >= 10) throw err;
      await sleep(2000);
    }
  }
}

async function createFreshTopics(kafka: ReturnType<typeof createKafka>, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const old = (await admin.listTopics()).filter((t) => t.startsWith(TOPIC_PREFIX));
    if (old.length > 0) await admin.deleteTopics({ topics: old }).catch(() => undefined);
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({
        topic,
        numPartitions: PARTITIONS,
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'retention.bytes', value: '-1' },
        ],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A directory of its own on the receiver for this run (made over SFTP, so it belongs to the
 * SFTP account), earlier runs' directories removed. Returns it as the client sees it and as
 * it lies on this machine's disk.
 */
async function freshRemoteDir(
  stackEnv: Record<string, string>,
  runId: string,
): Promise<{ remoteDir: string; localDir: string }> {
  const incoming = required(stackEnv, 'SFTP_LOCAL_INCOMING');
  for (const name of readdirSync(incoming)) {
    if (name.startsWith('soak-')) rmSync(join(incoming, name), { recursive: true, force: true });
  }
  const settings = sftpSettingsFromEnv(loadEnv(SftpEnv, stackEnv));
  const remoteDir = posix.join(settings.remoteDir, `soak-${runId}`);
  const client = await connectPinnedSftp(settings);
  try {
    await client.mkdir(remoteDir, true);
  } finally {
    await client.end();
  }
  return { remoteDir, localDir: join(incoming, `soak-${runId}`) };
}

/** Until the group has committed every offset of the topic; returns when that was seen. */
async function waitForNoLag(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  groupId: string,
  until: number,
  say: (m: string) => void,
  signal: AbortSignal,
): Promise<Date> {
  let lastSaid = 0;
  let lastError = '';
  while (!signal.aborted) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      let lag = 0;
      for (const p of ends) {
        const c = at.get(p.partition) ?? -1;
        lag += Math.max(0, Number(p.high) - Math.max(c, Number(p.low)));
      }
      if (lag === 0) {
        say('ingest caught up: no lag');
        return new Date();
      }
      if (Date.now() - lastSaid > 10000) {
        say(`ingest lag ${lag}`);
        lastSaid = Date.now();
      }
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > until)
      throw new Error(`the ingest did not catch up after the chaos${lastError ? ` (${lastError})` : ''}`);
    await sleep(2000);
  }
  throw new Error('interrupted');
}

/**
 * Whether the exporter service, left alone after the chaos, brings the receiver to the
 * reference bytes: its latest DELIVERED version has the reference's sha256 and one of its own
 * jobs (nightly, late-window) ended DELIVERED or UNCHANGED after the ingest caught up.
 */
async function waitForExporter(
  pool: Pool,
  day: string,
  referenceSha: string,
  after: Date,
  until: number,
  say: (m: string) => void,
  signal: AbortSignal,
): Promise<boolean> {
  say('waiting for the exporter service to export the day by itself (it fires every minute)');
  while (!signal.aborted && Date.now() < until) {
    try {
      const latest = await pool.query<{ sha256: string; version: number }>(
        `select sha256, version from export_versions where service_day = $1 and state = 'DELIVERED'
         order by version desc limit 1`,
        [day],
      );
      const own = await pool.query<{ n: number }>(
        `select count(*)::int as n from delivery_attempts
         where service_day = $1 and started_at >= $2 and outcome in ('DELIVERED', 'UNCHANGED')
           and trigger in ('nightly', 'late-window')`,
        [day, after],
      );
      const row = latest.rows[0];
      if (row && row.sha256 === referenceSha && (own.rows[0]?.n ?? 0) > 0) {
        say(`the exporter reached the undisturbed bytes (v${row.version})`);
        return true;
      }
    } catch {
      // The database is up again after the chaos; a failed look is tried again.
    }
    await sleep(3000);
  }
  return false;
}

async function readVersions(pool: Pool, day: string): Promise<LedgerVersion[]> {
  const r = await pool.query<Record<string, unknown>>(
    'select * from export_versions where service_day = $1 order by version',
    [day],
  );
  return r.rows.map((row) => ({
    version: Number(row.version),
    sha256: String(row.sha256),
    // Before migration 0006 every row was a delivered version.
    state: typeof row.state === 'string' ? row.state : 'DELIVERED',
    fileName: String(row.file_name),
  }));
}

async function readAttempts(pool: Pool, day: string): Promise<LedgerAttempt[]> {
  const r = await pool.query<{
    id: string;
    version: number;
    sha256: string;
    outcome: string;
    trigger: string;
    error_code: string | null;
    error: string | null;
  }>(
    `select id, version, sha256, outcome, trigger, error_code, error from delivery_attempts
     where service_day = $1 order by id`,
    [day],
  );
  return r.rows.map((a) => ({
    id: Number(a.id),
    version: a.version,
    sha256: a.sha256,
    outcome: a.outcome,
    trigger: a.trigger,
    errorCode: a.error_code,
    error: a.error,
  }));
}

/** The whole database's counts: it holds this one simulated day's topic and nothing else. */
async function readCounts(url: string, rows: number): Promise<DayCounts> {
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    const taps = await pool.query<{ n: number }>('select count(*)::int as n from boardings');
    const dups = await pool.query<{ n: number }>('select count(*)::int as n from duplicate_taps');
    const dead = await pool.query<{ reason: string; n: number }>(
      'select reason, count(*)::int as n from dead_letters group by reason',
    );
    return {
      tapsStored: taps.rows[0]?.n ?? 0,
      duplicates: dups.rows[0]?.n ?? 0,
      deadLettered: Object.fromEntries(dead.rows.map((r) => [r.reason, r.n])),
      rows,
    };
  } finally {
    await pool.end();
  }
}
