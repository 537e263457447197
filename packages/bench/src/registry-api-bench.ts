import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { environmentWith, KafkaEnv, loadEnv } from '@boarding/config/env';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { createKafka } from '@boarding/kafka/client';
import { importMatches } from '@boarding/registry/import/import-matches';
import { createApiKey } from '@boarding/registry/verbs/create-api-key';
import { deriveSeed, Random } from '@boarding/simulator/random';
import { REGISTRY_CSV_HEADER, registryCsvLines } from '@boarding/simulator/registry-csv';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import autocannon from 'autocannon';
import { runUndos } from './cleanups';
import type { Bench, BenchContext } from './harness';
import {
  bodyOf,
  checkRun,
  errorCodeOf,
  type Failures,
  hesChanges,
  type LatencySummary,
  newPersons,
  type Person,
  type RequestKind,
  ROUTE_OF,
  randomMatched,
  registryLinePart,
  requestMix,
  type ServerTimes,
  serverTimes,
  serverTimesBetween,
  standInCsv,
  summariseLatencies,
  WritePool,
  writeOutcomeOk,
  writesNeeded,
} from './registry-api-bench-load';
import {
  commandCpuSeconds,
  cpuSecondsBetween,
  machineCpuSeconds,
  processCpuSeconds,
  type ServedChild,
  serveChild,
} from './registry-api-bench-processes';

/** SPEC §1: about 1.2 M matched cards. `--taps N` seeds N matched cards instead. */
const DEFAULT_CARDS = 1_200_000;
const SEED = 7;
/** The load: the same for the API and for its bound (/healthz of the same process). */
const LOAD = { connections: 10, seconds: 10, warmUpSeconds: 3 } as const;
/** Write bodies are made for up to this rate; a faster server runs out and the bench says so. */
const MAX_RATE = 10_000;
/**
 * The API's rate limits, raised for the bench: the defaults (120 requests per key per minute, 10
 * attempts per TC per hour) would answer 429 within the first second. Printed with the figures.
 */
const BENCH_RATE_LIMITS = {
  REGISTRY_API_RATE_PER_KEY_PER_MINUTE: '1000000',
  REGISTRY_API_RATE_PER_TC_PER_HOUR: '10000',
} as const;
/** Issue 9's goal on this machine. */
const GOAL = { throughput: 1000, p99: 50 } as const;

const since = (t0: number) => (performance.now() - t0) / 1000;
const count = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Every value a child reads, from `.local/stack.env`, this environment and the overrides. */
function childEnv(overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(environmentWith(overrides))) if (v !== undefined) env[k] = v;
  return env;
}

/** Imports side by side: each seals on its own worker threads and applies in its own backend. */
const SEED_PARTS = 2;

/**
 * The simulator's registry of `cards` cards (`registryCsvLines`, seed 7) as `parts` import files
 * of whole cards (a card's history stays in one file). Returns the files and the rows written.
 */
async function writeRegistryParts(dir: string, cards: number, parts: number) {
  const paths = Array.from({ length: parts }, (_, i) => join(dir, `registry-${i + 1}.csv`));
  // TC and HES in the import format (synthetic, but a registry file all the same): owner only.
  const outs = paths.map((path) => createWriteStream(path, { mode: 0o600 }));
  let rows = 0;
  try {
    for (const out of outs) out.write(`${REGISTRY_CSV_HEADER}\n`);
    for (const line of registryCsvLines({ cards, seed: SEED })) {
      const out = outs[registryLinePart(line, cards, parts)];
      if (out === undefined) throw new Error(`registry line of no part: ${line.slice(0, 16)}`);
      rows++;
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
    await Promise.all(outs.map((out) => finished(out.end())));
  } catch (err) {
    for (const out of outs) out.destroy();
    throw err;
  }
  return { paths, rows };
}

/**
 * The registry of `cards` matched cards through the import path (`importMatches`: validation,
 * sealing on worker threads, COPY, overlap checks, one transaction per file), two files of
 * disjoint cards and persons side by side so both cores work (one import of 1.2 M cards took
 * 3.5 min, most of it one backend inserting the matches; two take under 2 on a quiet machine). The caller then runs VACUUM ANALYZE:
 * the API is measured against a registry with planner statistics, as in production, and no
 * autovacuum of the fresh rows runs during the load.
 */
async function seedRegistry(ctx: BenchContext, database: TestDatabase, dir: string, cards: number) {
  const t0 = performance.now();
  const parts = await writeRegistryParts(dir, cards, Math.min(SEED_PARTS, cards));
  ctx.progress(
    `seeding ${count(cards)} matched cards (${count(parts.rows)} rows) with the import path, ${parts.paths.length} files side by side`,
  );
  const keyring = loadKeyring();
  const reports = await Promise.all(
    parts.paths.map((path) =>
      importMatches({
        ctx: { db: database.db, keyring, actor: { id: 'boarding-bench', channel: 'IMPORT' } },
        pool: database.pool,
        input: { path },
      }),
    ),
  );
  for (const report of reports) {
    if (report.outcome !== 'APPLIED')
      throw new Error(`seeding: the import ended ${report.outcome} with ${report.invalid} invalid rows`);
  }
  ctx.progress(`registry imported in ${since(t0).toFixed(1)} s (not part of the figures)`);
}

/**
 * The card status relay (SPEC §10) the API process runs when Kafka is configured: it publishes
 * every change the load makes, so its cost is part of the figures. Not the seeded registry's
 * backlog: an import writes one outbox row per card, which production published long before any
 * lookup, so those rows are marked sent before the API starts; and not to the stack's topic, which
 * validators read: a private topic, deleted afterwards. Returns the topic's undo, or null when the
 * schema has no outbox or no Kafka is configured.
 */
async function isolateStatusRelay(
  ctx: BenchContext,
  database: TestDatabase,
  topic: string,
): Promise<(() => Promise<void>) | null> {
  const env = environmentWith();
  const { rows } = await database.pool.query<{ outbox: string | null }>(
    `select to_regclass('card_status_outbox')::text as outbox`,
  );
  if (rows[0]?.outbox == null || env.KAFKA_BROKERS === undefined) return null;
  const marked = await database.pool.query(
    'update card_status_outbox set sent_at = now() where sent_at is null',
  );
  ctx.progress(
    `status relay: ${count(marked.rowCount ?? 0)} seeded outbox rows marked sent; the API publishes the load's changes to topic ${topic}`,
  );
  const { KAFKA_BROKERS } = loadEnv(KafkaEnv.pick({ KAFKA_BROKERS: true }), env);
  return ctx.cleanup(`topic ${topic}`, async () => {
    const admin = createKafka({ brokers: KAFKA_BROKERS, clientId: 'boarding-bench' }).admin();
    await admin.connect();
    try {
      // Created by the API's relay only once Kafka answered: nothing to delete otherwise.
      if ((await admin.listTopics()).includes(topic)) await admin.deleteTopics({ topics: [topic] });
    } finally {
      await admin.disconnect();
    }
  });
}

type LoadRun = {
  label: string;
  responses: number;
  seconds: number;
  throughput: number;
  latency: LatencySummary;
  byKind: Map<RequestKind, LatencySummary>;
  failures: Failures;
  errors: number;
  timeouts: number;
  exhausted: string[];
};

/**
 * One autocannon run from this process against the server child: every response timed here
 * (float ms, not autocannon's integer histogram, so a sub-millisecond /healthz keeps its p99).
 */
async function fire(
  label: string,
  options: autocannon.Options,
  kindOfLastResponse: () => RequestKind | undefined,
  extra: { failures?: Failures; exhausted?: () => string[]; onStart?: (stop: () => void) => void } = {},
): Promise<LoadRun> {
  const latencies: number[] = [];
  const byKind = new Map<RequestKind, number[]>();
  const failures = extra.failures ?? new Map<string, number>();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, res: autocannon.Result) =>
      err ? reject(err) : resolve(res),
    );
    extra.onStart?.(() => instance.stop());
    instance.on('response', (_client, status, _bytes, responseMs) => {
      latencies.push(responseMs);
      const kind = kindOfLastResponse();
      if (kind !== undefined) {
        const list = byKind.get(kind) ?? [];
        list.push(responseMs);
        byKind.set(kind, list);
      } else if (status < 200 || status > 299) {
        failures.set(`${status}`, (failures.get(`${status}`) ?? 0) + 1);
      }
    });
  });
  return {
    label,
    responses: latencies.length,
    seconds: result.duration,
    throughput: latencies.length / result.duration,
    latency: summariseLatencies(latencies),
    byKind: new Map([...byKind].map(([k, v]) => [k, summariseLatencies(v)])),
    failures,
    errors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    exhausted: extra.exhausted?.() ?? [],
  };
}

type Keys = { staff: string; citizen: string };
type WritePools = Record<'match' | 'hes-change', WritePool>;

/** The staff lookup with the STAFF key, every citizen operation with the WEB key. */
const headersFor = (kind: RequestKind, keys: Keys) => ({
  'content-type': 'application/json',
  authorization: `Bearer ${kind === 'staff-lookup' ? keys.staff : keys.citizen}`,
});

/** The next write body of its pool, or a random matched person for a lookup. */
const personFor = (kind: RequestKind, pools: WritePools, cards: number, random: Random) =>
  kind === 'match' || kind === 'hes-change' ? pools[kind].take() : randomMatched(cards, random);

/** The API under the mix (`requestMix`): lookups of random matched cards, each write body once. */
function mixLoad(api: string, keys: Keys, mix: readonly RequestKind[], pools: WritePools, cards: number) {
  const random = new Random(deriveSeed(SEED, 'registry-api-lookups'));
  let lastKind: RequestKind | undefined;
  let stop: (() => void) | undefined;
  const exhausted = new Set<string>();
  const failures: Failures = new Map();
  const fail = (what: string) => failures.set(what, (failures.get(what) ?? 0) + 1);
  const requests: autocannon.Request[] = mix.map((kind) => ({
    method: 'POST',
    path: ROUTE_OF[kind],
    headers: headersFor(kind, keys),
    setupRequest: (request) => {
      const person = personFor(kind, pools, cards, random);
      if (person === undefined) {
        // Never a body twice: the run stops here and checkRun refuses it.
        exhausted.add(kind);
        stop?.();
        return request;
      }
      request.body = bodyOf(kind, person);
      return request;
    },
    // autocannon calls this, then emits 'response' for the same answer, synchronously: the kind
    // noted here is the kind of the latency that event carries.
    onResponse: (status, body) => {
      lastKind = kind;
      if (status < 200 || status > 299) fail(`${kind} ${status} ${errorCodeOf(body)}`);
      else if (!writeOutcomeOk(kind, body)) fail(`${kind} ${status} unexpected outcome`);
    },
  }));
  return (label: string, seconds: number) =>
    fire(label, { url: api, connections: LOAD.connections, duration: seconds, requests }, () => lastKind, {
      failures,
      exhausted: () => [...exhausted],
      onStart: (s) => {
        stop = s;
      },
    });
}

/** One request of each kind of the mix before the load, so a broken setup fails in a second. */
async function preflight(
  api: string,
  keys: Keys,
  mix: readonly RequestKind[],
  pools: WritePools,
  cards: number,
): Promise<void> {
  const random = new Random(deriveSeed(SEED, 'registry-api-preflight'));
  for (const kind of new Set(mix)) {
    const person = personFor(kind, pools, cards, random);
    if (person === undefined) throw new Error(`no ${kind} body for the preflight`);
    const res = await fetch(`${api}${ROUTE_OF[kind]}`, {
      method: 'POST',
      headers: headersFor(kind, keys),
      body: bodyOf(kind, person),
    });
    const body = await res.text();
    if (!res.ok || !writeOutcomeOk(kind, body)) {
      throw new Error(`preflight: ${kind} answered ${res.status} ${errorCodeOf(body)}`);
    }
  }
}

type TableActivity = Map<string, { seqScans: number; seqRows: number; idxScans: number }>;

/** The registry tables' scan counters (pg_stat_user_tables) of the bench database. */
async function tableActivity(database: TestDatabase): Promise<TableActivity> {
  // Backends report their counters at most once a second: wait for the last ones to land.
  await sleep(1500);
  await database.pool.query('select pg_stat_clear_snapshot()');
  const { rows } = await database.pool.query<{ t: string; seq: string; seq_rows: string; idx: string }>(
    `select relname as t, seq_scan as seq, seq_tup_read as seq_rows, coalesce(idx_scan, 0) as idx
     from pg_stat_user_tables`,
  );
  return new Map(
    rows.map((r) => [r.t, { seqScans: Number(r.seq), seqRows: Number(r.seq_rows), idxScans: Number(r.idx) }]),
  );
}

/** Which tables the run read how: a sequential scan of a 1.2 M-row table shows up here. */
function describeActivity(before: TableActivity, after: TableActivity): string {
  const lines: string[] = [];
  for (const [table, a] of after) {
    const b = before.get(table) ?? { seqScans: 0, seqRows: 0, idxScans: 0 };
    const seq = a.seqScans - b.seqScans;
    const idx = a.idxScans - b.idxScans;
    if (seq === 0 && idx === 0) continue;
    lines.push(
      `${table} ${count(seq)} seq scans (${count(a.seqRows - b.seqRows)} rows) ${count(idx)} index scans`,
    );
  }
  return lines.join('; ');
}

async function metricsOf(api: string): Promise<ServerTimes> {
  const res = await fetch(`${api}/metrics`);
  return serverTimes(await res.text());
}

async function routesOf(api: string): Promise<Set<string>> {
  const res = await fetch(`${api}/openapi.json`);
  if (!res.ok) throw new Error(`${api}/openapi.json answered ${res.status}`);
  const document = (await res.json()) as { paths?: Record<string, unknown> };
  return new Set(Object.keys(document.paths ?? {}));
}

/**
 * Where the CPU went during a run: the API, PostgreSQL (all its processes: the stack is shared, so
 * other sessions' queries count too), the stand-in, this process (autocannon), anything else.
 */
function cpuMeter(api: ServedChild, hes: ServedChild) {
  const take = () => ({
    api: processCpuSeconds(api.pid),
    hes: processCpuSeconds(hes.pid),
    self: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    postgres: commandCpuSeconds('postgres'),
    machine: machineCpuSeconds(),
  });
  const before = take();
  return () => {
    const after = take();
    const apiS = after.api - before.api;
    const hesS = after.hes - before.hes;
    const selfS = after.self - before.self;
    const pgS = cpuSecondsBetween(before.postgres, after.postgres);
    const busy = after.machine.busy - before.machine.busy;
    const idle = after.machine.idle - before.machine.idle;
    const rest = Math.max(0, busy - apiS - hesS - selfS - pgS);
    return (
      `api ${apiS.toFixed(1)} s, postgres ${pgS.toFixed(1)} s, hes stand-in ${hesS.toFixed(1)} s, ` +
      `load generator ${selfS.toFixed(1)} s, anything else ${rest.toFixed(1)} s, idle ${idle.toFixed(1)} s`
    );
  };
}

function describeRun(run: LoadRun): string {
  const kinds = [...run.byKind]
    .map(([kind, l]) => `${kind} ${count(l.count)} p50 ${ms(l.p50)} p99 ${ms(l.p99)}`)
    .join('; ');
  return (
    `${run.label}: ${count(run.responses)} responses in ${run.seconds.toFixed(1)} s = ${count(Math.round(run.throughput))} req/s, ` +
    `p50 ${ms(run.latency.p50)} p99 ${ms(run.latency.p99)} max ${ms(run.latency.max)}${kinds ? ` (${kinds})` : ''}`
  );
}

/**
 * The registry API (SPEC §9) as its own process (`boarding serve registry-api`, with the HES
 * stand-in as its HES service) over a registry of ~1.2 M matches, loaded by autocannon from this
 * process over loopback: 80 % lookups, 20 % writes. Bound: the same load on /healthz of the same
 * server process in the same run.
 */
export const registryApiBench: Bench = {
  name: 'registry-api',
  description:
    'registry API process under 80 % lookups / 20 % matches and HES changes over ~1.2 M matches vs /healthz',
  async run(ctx) {
    const cards = ctx.options.taps ?? DEFAULT_CARDS;
    const undo: (() => Promise<void>)[] = [];
    try {
      const dir = await mkdtemp(join(tmpdir(), 'bench-registry-api-'));
      undo.push(ctx.cleanup(`temp dir ${dir}`, () => rm(dir, { recursive: true, force: true })));
      const database = await createTestDatabase('bench_registry_api');
      undo.push(ctx.cleanup(`database ${database.name}`, () => database.drop()));
      await seedRegistry(ctx, database, dir, cards);

      const writes = writesNeeded(MAX_RATE, LOAD.warmUpSeconds + LOAD.seconds);
      const random = new Random(deriveSeed(SEED, 'registry-api-writes'));
      const matches: Person[] = newPersons(cards, writes, random);
      const changes: Person[] = hesChanges(cards, Math.min(writes, cards), random);
      const hesData = join(dir, 'hes-stand-in.csv');
      await writeFile(hesData, standInCsv([...matches, ...changes]), { mode: 0o600 });

      const actor = { id: 'boarding-bench', channel: 'ADMIN' };
      const staff = await createApiKey({ ctx: { db: database.db, actor }, input: { channel: 'STAFF' } });
      const web = await createApiKey({ ctx: { db: database.db, actor }, input: { channel: 'WEB' } });
      const keys: Keys = { staff: staff.key, citizen: web.key };

      const statusTopic = `boarding-bench.card-status.${randomBytes(4).toString('hex')}`;
      const dropTopic = await isolateStatusRelay(ctx, database, statusTopic);
      if (dropTopic) undo.push(dropTopic);
      const t0 = performance.now();
      // Every table the seeding wrote (the status tables through their triggers too).
      await database.pool.query('vacuum analyze');
      ctx.progress(
        `vacuum analyze of the bench database: ${since(t0).toFixed(1)} s (not part of the figures)`,
      );

      ctx.progress(`starting the HES stand-in (${count(matches.length + changes.length)} codes) and the API`);
      const hes = await serveChild(
        ctx,
        'hes-stand-in',
        childEnv({ HES_STAND_IN_DATA: hesData }),
        join(dir, 'hes-stand-in.log'),
        'url',
      );
      undo.push(hes.stop);
      const apiChild = await serveChild(
        ctx,
        'registry-api',
        childEnv({
          DATABASE_URL: database.url,
          HES_SERVICE_URL: hes.url,
          STATUS_TOPIC: statusTopic,
          ...BENCH_RATE_LIMITS,
        }),
        join(dir, 'registry-api.log'),
        'address',
      );
      undo.push(apiChild.stop);
      const api = apiChild.url;
      ctx.progress(
        `registry API pid ${apiChild.pid} at ${api}, rate limits raised for the bench: ${Object.entries(
          BENCH_RATE_LIMITS,
        )
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
      );

      const mix = requestMix(await routesOf(api));
      ctx.progress(`mix per connection: ${mix.join(', ')}`);
      const pools = { match: new WritePool(matches), 'hes-change': new WritePool(changes) };
      await preflight(api, keys, mix, pools, cards);
      const load = mixLoad(api, keys, mix, pools, cards);

      const settings = `${LOAD.connections} connections, ${LOAD.seconds} s`;
      ctx.progress(`warm-up: the mix for ${LOAD.warmUpSeconds} s (not measured)`);
      const warm = await load('warm-up', LOAD.warmUpSeconds);
      checkRun(warm);
      warm.failures.clear();

      ctx.progress(`bound: GET /healthz of the same process, ${settings}`);
      const healthCpu = cpuMeter(apiChild, hes);
      const health = await fire(
        'healthz',
        { url: `${api}/healthz`, connections: LOAD.connections, duration: LOAD.seconds },
        () => undefined,
      );
      ctx.progress(describeRun(health));
      ctx.progress(`healthz cpu: ${healthCpu()}`);
      checkRun(health);

      ctx.progress(`the mix, ${settings}`);
      const tablesBefore = await tableActivity(database);
      const timesBefore = await metricsOf(api);
      const mixCpu = cpuMeter(apiChild, hes);
      const run = await load('mix', LOAD.seconds);
      const cpu = mixCpu();
      const server = serverTimesBetween(timesBefore, await metricsOf(api));
      const tables = describeActivity(tablesBefore, await tableActivity(database));
      ctx.progress(describeRun(run));
      ctx.progress(`mix cpu: ${cpu}`);
      ctx.progress(
        `server time per request (registry_api_request_seconds): ${[...server]
          .map(([route, t]) => `${route} ${ms((t.seconds / t.count) * 1000)} × ${count(t.count)}`)
          .join('; ')}`,
      );
      ctx.progress(`registry tables during the mix (pg_stat_user_tables): ${tables}`);
      const failed = checkRun(run);
      ctx.progress(
        `${[...run.failures.values()].reduce((a, b) => a + b, 0)} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts (${(failed * 100).toFixed(3)} %); ` +
          `writes used: ${pools.match.used} matches, ${pools['hes-change'].used} HES changes`,
      );

      ctx.record({ figure: 'throughput', value: run.throughput, unit: 'req/s', bound: health.throughput });
      ctx.record({ figure: 'p99', value: run.latency.p99, unit: 'ms', bound: health.latency.p99 });
      const met = run.throughput >= GOAL.throughput && run.latency.p99 < GOAL.p99;
      ctx.progress(
        `goal ≥ ${count(GOAL.throughput)} req/s at p99 < ${GOAL.p99} ms: ${met ? 'met' : 'MISSED'}; ` +
          `rate limits were raised for the bench (${BENCH_RATE_LIMITS.REGISTRY_API_RATE_PER_KEY_PER_MINUTE} per key per minute, ` +
          `${BENCH_RATE_LIMITS.REGISTRY_API_RATE_PER_TC_PER_HOUR} per TC per hour)`,
      );
    } finally {
      // Newest first: the API before the stand-in, both before the database and files they use.
      await runUndos(undo, ctx.progress);
    }
  },
};
