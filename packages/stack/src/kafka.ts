import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createKafka } from '@boarding/kafka/client';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { StackError } from './errors';
import { ownsProcess, portOpen, readPid, run, stopPid, waitUntil, which } from './exec';
import { probeStatus, type StackContext, type StackServer } from './server';

const NAME = 'kafka';

function paths(ctx: StackContext) {
  const dir = join(ctx.settings.local, 'kafka');
  return {
    dir,
    libs: join(dir, 'libs'),
    data: join(dir, 'data'),
    logs: join(dir, 'logs'),
    props: join(dir, 'server.properties'),
    log4j: join(dir, 'log4j2.properties'),
    pid: join(dir, 'kafka.pid'),
  };
}

const pinnedVersion = (ctx: StackContext) =>
  readFileSync(join(ctx.settings.infra, 'kafka', 'VERSION'), 'utf8').trim();

const render = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template value ${key} missing`);
    return String(value);
  });

/** Fetch the broker's runtime classpath from Maven Central once per pinned version. */
async function ensureJars(ctx: StackContext): Promise<void> {
  const p = paths(ctx);
  const version = pinnedVersion(ctx);
  const marker = join(p.libs, '.version');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === version) return;
  mkdirSync(p.libs, { recursive: true });
  const work = join(p.dir, 'fetch');
  mkdirSync(work, { recursive: true });
  copyFileSync(join(ctx.settings.infra, 'kafka', 'pom.xml'), join(work, 'pom.xml'));
  ctx.report(NAME, `downloading Kafka ${version} broker jars from Maven Central (mvn)…`);
  const t0 = Date.now();
  await run(
    NAME,
    'mvn',
    [
      '-B',
      '-q',
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${p.libs}`,
      '-DoverWriteReleases=true',
    ],
    { cwd: work },
  );
  const jars = readdirSync(p.libs).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(`kafka_2.13-${version}`))) {
    throw new StackError(NAME, `mvn finished but kafka_2.13-${version}.jar is not in ${p.libs}`);
  }
  writeFileSync(marker, `${version}\n`);
  ctx.report(NAME, `${jars.length} jars in ${p.libs} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

function brokers(ctx: StackContext): string[] {
  return [`127.0.0.1:${ctx.settings.ports.kafka}`];
}

/**
 * Create the taps topic (and a one-off KAFKA_TAPS_TOPIC of the caller's shell, for this run) once,
 * with time retention off (simulated days have past timestamps), and the card status feed
 * compacted (SPEC §10), as `boarding status init` does in production.
 */
async function ensureTopic(ctx: StackContext): Promise<void> {
  const admin = createKafka({ brokers: brokers(ctx), clientId: 'boarding-stack' }).admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    const wanted = [
      ctx.settings.tapsTopic,
      ...(ctx.settings.shellTapsTopic ? [ctx.settings.shellTapsTopic] : []),
    ];
    for (const topic of wanted.filter((t) => !topics.includes(t))) {
      ctx.report(
        NAME,
        `creating topic ${topic} (${ctx.settings.tapsPartitions} partitions, retention.ms=-1)`,
      );
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: ctx.settings.tapsPartitions,
            replicationFactor: 1,
            configEntries: [
              { name: 'retention.ms', value: '-1' },
              { name: 'retention.bytes', value: '-1' },
            ],
          },
        ],
      });
    }
    await ensureStatusTopic(ctx, admin);
  } finally {
    await admin.disconnect();
  }
}

// SPEC §10's card status feed. Its name and config repeat @boarding/status-feed's ensureStatusTopic
// (what `boarding status init` runs in production): stack cannot import status-feed, whose tests
// depend on testing, which brings the stack up (a package cycle). Keep the two in step.
const STATUS_TOPIC = 'card.status.v1';

/**
 * Create the status topic compacted, and refuse one that exists without compaction: a deleting
 * topic drops the status of cards that have not changed for a while.
 */
async function ensureStatusTopic(ctx: StackContext, admin: Admin): Promise<void> {
  const topics = await admin.listTopics();
  if (!topics.includes(STATUS_TOPIC)) {
    ctx.report(NAME, `creating topic ${STATUS_TOPIC} (6 partitions, cleanup.policy=compact)`);
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: STATUS_TOPIC,
          numPartitions: 6,
          replicationFactor: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.cleanable.dirty.ratio', value: '0.1' },
          ],
        },
      ],
    });
    return;
  }
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: STATUS_TOPIC, configNames: ['cleanup.policy'] }],
  });
  const policy = resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
  if (policy !== 'compact') {
    throw new StackError(
      NAME,
      `topic ${STATUS_TOPIC} exists with cleanup.policy=${policy ?? '?'}; it must be compact (SPEC §10): delete it and run stack up again`,
    );
  }
}

async function healthy(ctx: StackContext): Promise<boolean> {
  const admin = createKafka({
    brokers: brokers(ctx),
    clientId: 'boarding-stack',
    config: { retry: { retries: 0 }, connectionTimeout: 2000 },
  }).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } finally {
    await admin.disconnect();
  }
}

export const kafka: StackServer = {
  name: NAME,
  requirements: () => [
    { command: 'java', package: 'openjdk-17-jre-headless' },
    { command: 'mvn', package: 'maven' },
  ],

  async up(ctx) {
    const started = Date.now();
    const p = paths(ctx);
    const pid = readPid(p.pid);
    if (ownsProcess(pid, p.props)) {
      await waitUntil(NAME, 'the broker', () => healthy(ctx), 60000);
      await ensureTopic(ctx);
      return {
        server: NAME,
        action: 'already-running',
        pid,
        port: ctx.settings.ports.kafka,
        ms: Date.now() - started,
      };
    }
    for (const port of [ctx.settings.ports.kafka, ctx.settings.ports.kafkaController]) {
      if (await portOpen(port)) throw new StackError(NAME, `port ${port} is taken by another process`);
    }
    await ensureJars(ctx);
    for (const d of [p.data, p.logs]) mkdirSync(d, { recursive: true });
    const infra = join(ctx.settings.infra, 'kafka');
    writeFileSync(
      p.props,
      render(readFileSync(join(infra, 'server.properties.tmpl'), 'utf8'), {
        port: ctx.settings.ports.kafka,
        controllerPort: ctx.settings.ports.kafkaController,
        dataDir: p.data,
      }),
    );
    writeFileSync(
      p.log4j,
      render(readFileSync(join(infra, 'log4j2.properties.tmpl'), 'utf8'), { logDir: p.logs }),
    );
    const java = which('java') ?? 'java';
    const cp = `${p.libs}/*`;
    if (!existsSync(join(p.data, 'meta.properties'))) {
      ctx.report(NAME, `formatting KRaft storage in ${p.data}`);
      await run(NAME, java, [
        `-Dlog4j2.configurationFile=${p.log4j}`,
        '-cp',
        cp,
        'kafka.tools.StorageTool',
        'format',
        // One argument, `=` joined: a base64url id may begin with '-', which argparse would
        // otherwise read as an option (seen: "--cluster-id/-t: expected one argument").
        `--cluster-id=${ctx.secrets.kafkaClusterId}`,
        '-c',
        p.props,
        '--ignore-formatted',
      ]);
    }
    ctx.report(
      NAME,
      `starting broker+controller on 127.0.0.1:${ctx.settings.ports.kafka} (heap ${ctx.settings.kafkaHeapMb} MB)`,
    );
    const out = openSync(join(p.logs, 'stdout.log'), 'a');
    const child = spawn(
      java,
      [
        `-Xms${ctx.settings.kafkaHeapMb}m`,
        `-Xmx${ctx.settings.kafkaHeapMb}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${p.log4j}`,
        `-Dkafka.logs.dir=${p.logs}`,
        '-cp',
        cp,
        'kafka.Kafka',
        p.props,
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    if (!child.pid) throw new StackError(NAME, 'java did not start');
    writeFileSync(p.pid, `${child.pid}\n`);
    child.unref();
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    await waitUntil(
      NAME,
      'the broker',
      async () => {
        if (exited) throw new StackError(NAME, `the JVM exited; see ${join(p.logs, 'server.log')}`);
        return (await portOpen(ctx.settings.ports.kafka)) && healthy(ctx);
      },
      90000,
    );
    await ensureTopic(ctx);
    return {
      server: NAME,
      action: 'started',
      pid: child.pid,
      port: ctx.settings.ports.kafka,
      ms: Date.now() - started,
    };
  },

  async down(ctx) {
    const p = paths(ctx);
    const pid = readPid(p.pid);
    if (!ownsProcess(pid, p.props)) return { server: NAME, action: 'not-running', pid: null };
    // SIGTERM is the broker's controlled shutdown: it closes its logs cleanly for a fast restart.
    return { server: NAME, action: await stopPid(pid, 'SIGTERM', 60000), pid };
  },

  async status(ctx) {
    const p = paths(ctx);
    const pid = readPid(p.pid);
    const running = ownsProcess(pid, p.props);
    return probeStatus(
      NAME,
      ctx.settings.ports.kafka,
      pid,
      running,
      () => healthy(ctx),
      () => `KRaft broker+controller, Kafka ${pinnedVersion(ctx)}`,
    );
  },

  // The stack's own topic, never the caller's shell KAFKA_TAPS_TOPIC (settings.ts, shellTapsTopic).
  env: (ctx) => ({ KAFKA_BROKERS: brokers(ctx).join(','), KAFKA_TAPS_TOPIC: ctx.settings.tapsTopic }),
};
