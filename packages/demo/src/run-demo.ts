import { closeSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, posix } from 'node:path';
import { environmentWith, loadEnv, SftpEnv } from '@boarding/config/env';
import { localDir } from '@boarding/config/paths';
import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import type { Manifest } from '@boarding/export/manifest';
import { planDay } from '@boarding/simulator/day';
import { writeHesAnswersCsv } from '@boarding/simulator/hes-answers';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import {
  apiKeyCreateArgs,
  CITIZEN_CLIENTS,
  CreatedApiKey,
  DEMO_CLIENTS,
  type DemoApiCall,
  type DemoChannel,
  matchRequestOf,
  pickPeople,
  postJson,
  readLookupAnswer,
  readMatchAnswer,
} from './demo-api';
import { createDemoSandbox } from './demo-sandbox';
import {
  type BackgroundProcess,
  choosePort,
  type DemoServer,
  type DemoService,
  recordDemoServers,
  type StartBackground,
  type StoppedServers,
  startTicksNow,
  stopDemoServers,
  stopOwnServer,
  waitUntilReady,
} from './demo-servers';
import { assertDemoTargets, type DemoTarget } from './demo-targets';

/**
 * Runs one `boarding …` command as its own process (the demo is those commands, in order), with
 * `env` added to its environment; its stdout is returned with `capture`. Rejects when it fails.
 * The CLI provides it: this package does not start processes of the CLI by itself.
 */
export type RunCommand = (
  args: string[],
  options: { env: Record<string, string>; stdoutToStderr?: boolean; capture?: boolean },
) => Promise<string>;

export type DemoInput = {
  day: string;
  taps: number;
  seed: number;
  /** Targets allowed to point at a test host instead of the local stack (`--allow-target`). */
  allowTargets?: readonly DemoTarget[];
  /**
   * Leave the registry API and the HES stand-in running after the demo, so the user can open the
   * page (default); false stops them at the end (`--no-serve`: tests, CI).
   */
  serve?: boolean;
};

export type DemoHooks = {
  run: RunCommand;
  /** Starts the servers of step 9 (`boarding serve …` in the background). */
  startBackground: StartBackground;
  /** A line of progress for the user (the step about to run). */
  progress: (message: string) => void;
  /** The steps' own reports go to stderr (stdout carries only the result, e.g. with --json). */
  quietSteps: boolean;
};

/** What the Ministry received, as the demo shows it: counts and masked sample rows only. */
export type DemoResult = {
  day: string;
  outcome: string;
  version: number | null;
  remote: string;
  receivedAt: string | null;
  manifest: string;
  stats: Manifest['stats'];
  rows: number;
  sha256: string;
  sample: { tc: string; hes: string; card: string; at: string; mode: string; line: string; result: string }[];
  /** From step 1 to the file's delivery (step 7). */
  seconds: number;
  envFile: string;
  /** Steps 8–10: the registry API and its channels. */
  api: DemoApiResult;
  /** Servers an earlier demo had left running, stopped before this one re-created the sandbox. */
  previous: StoppedServers;
};

/** The registry API part of the demo: where the page is, and one call per channel (masked). */
export type DemoApiResult = {
  /** The matching page (SPEC §9), `http://127.0.0.1:<port>/`; the staff page is /staff. */
  page: string;
  /** The WEB key the page uses for a browser without a device key (`REGISTRY_API_WEB_PAGE_KEY`). */
  pageKeyId: string;
  hesStandIn: string;
  /** The file the simulator wrote for the stand-in (`HES_STAND_IN_DATA`) and its number of answers. */
  hesData: { file: string; answers: number };
  calls: DemoApiCall[];
  /** Left running in the background (pid, log); empty with `serve: false`. */
  running: Pick<DemoServer, 'service' | 'pid' | 'url' | 'log'>[];
};

/** What `boarding serve exporter --night D` prints: the job's outcome (counts, no personal data). */
const NightOutcome = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('completed'),
    result: z.object({ outcome: z.string(), version: z.number().nullable(), file: z.string().nullable() }),
  }),
  z.object({ state: z.literal('failed'), failedReason: z.string(), attemptsMade: z.number() }),
]);

/** What step 7 reads to show where the file went. */
const DemoShowEnv = SftpEnv.extend({ EXPORT_DIR: z.string().min(1).optional() });

const SAMPLE_ROWS = 5;
const STEPS = 10;
// The servers answer on loopback only, whatever REGISTRY_API_HOST or HES_STAND_IN_HOST say: the
// demo prints a 127.0.0.1 address, and the stand-in answers anyone from test data.
const LOOPBACK = '127.0.0.1';
// `boarding serve`'s usual ports (packages/hes README, services/registry-api env.ts), when free.
const PREFERRED_PORT: Record<DemoService, number> = { 'hes-stand-in': 7081, 'registry-api': 9103 };

/**
 * The demo's plan (`boarding demo`): the whole pipeline on a simulated day, end to end, on the
 * local stack, in a sandbox every run re-creates. Each step is the real command a user types,
 * run as its own process with the sandbox's settings; step 6 is the exporter service itself
 * (`boarding serve exporter --night D`: the nightly job of D on a BullMQ worker, delivered to the
 * local SFTP server); step 7 reads what the Ministry received. Steps 8–10 show the registry API
 * (SPEC §9): one key per channel (`boarding apikey create`), the HES stand-in on data the
 * simulator writes for the day's people and the API with the WEB key for its page (`boarding
 * serve hes-stand-in`, `boarding serve registry-api`, in the background), one card matched
 * through each citizen channel and looked up by staff. Those matches hold from now on, so the
 * delivered file of the simulated day is the same bytes with or without them. The servers stay up
 * for the user to open the page (`.local/demo/servers.json` records them) unless `serve` is false;
 * the next demo stops them before it re-creates the sandbox, `stopDemoServers` (`boarding demo
 * --stop`) at any time.
 */
export async function runDemo(input: DemoInput, hooks: DemoHooks): Promise<DemoResult> {
  const { day } = input;
  const allowTargets = input.allowTargets ?? [];
  // Before anything, even `stack up`: a host with production settings in its environment must
  // not get a database dropped or a synthetic file delivered to the Ministry. Checked again by
  // the sandbox against the `stack.env` that step 1 writes.
  assertDemoTargets(allowTargets);
  const started = Date.now();
  let env: Record<string, string> = {};
  const step = async (n: number, title: string, args: string[]) => {
    hooks.progress(`step ${n}/${STEPS}: ${title} — boarding ${args.join(' ')}`);
    await hooks.run(args, { env, stdoutToStderr: hooks.quietSteps });
  };
  await step(1, 'the local stack', ['stack', 'up']);
  // Before the sandbox: an earlier demo's API holds connections to the database dropped next.
  const previous = await stopDemoServers();
  if (previous.stopped.length > 0) {
    hooks.progress(
      `stopped what the previous demo left running: ${previous.stopped.map((s) => `${s.service} (pid ${s.pid})`).join(', ')}`,
    );
  }
  for (const s of previous.unverified) {
    hooks.progress(
      `the previous demo's ${s.service} may still run as pid ${s.pid}: this system cannot verify it (no /proc), stop it yourself`,
    );
  }
  const sandbox = await createDemoSandbox(
    new Date().toISOString().replace(/\D/g, '').slice(0, 14),
    allowTargets,
  );
  hooks.progress(
    `sandbox: database boarding_demo, topic ${sandbox.env.KAFKA_TAPS_TOPIC}, settings in ${sandbox.envFile}`,
  );
  env = sandbox.env;
  await step(2, 'database migrations', ['migrate']);
  const demoDir = join(localDir(), 'demo');
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  const registryFile = join(demoDir, `registry-${day}-seed${input.seed}.csv`);
  await step(3, `a simulated day of ${input.taps} taps and its registry`, [
    'simulate',
    '--day',
    day,
    '--taps',
    String(input.taps),
    '--seed',
    String(input.seed),
    '--registry-out',
    registryFile,
  ]);
  await step(4, 'the registry import', ['registry', 'import', registryFile, '--actor', 'demo']);
  await step(5, 'the ingest, until caught up', ['ingest', '--until-caught-up']);

  const night = ['serve', 'exporter', '--night', day];
  hooks.progress(
    `step 6/${STEPS}: the nightly export job of ${day} through BullMQ, delivered by SFTP — boarding ${night.join(' ')}`,
  );
  const printed = await hooks.run(night, { env, capture: true });
  const job = NightOutcome.parse(JSON.parse(printed.trim().split('\n').at(-1) ?? 'null'));
  if (job.state === 'failed') {
    throw new Error(
      `the export job of ${day} failed after ${job.attemptsMade} tries: ${job.failedReason} (see: npx boarding export status --day ${day})`,
    );
  }

  hooks.progress(`step 7/${STEPS}: what the Ministry received`);
  const show = loadEnv(DemoShowEnv, environmentWith(env));
  const exportDir = show.EXPORT_DIR ?? join(localDir(), 'exports');
  const file = job.result.file ?? '';
  const manifestName = file.replace(/\.csv(\.gz)?$/, '.manifest.json');
  const manifest = JSON.parse(readFileSync(join(exportDir, manifestName), 'utf8')) as Manifest;
  // The local server's upload directory says nothing of where a file sent to a test host went.
  const receiverDir = allowTargets.includes('SFTP_HOST') ? undefined : environmentWith().SFTP_LOCAL_INCOMING;
  const delivered = {
    day,
    outcome: job.result.outcome,
    version: job.result.version,
    remote: `sftp://${show.SFTP_USER}@${show.SFTP_HOST}:${show.SFTP_PORT}${posix.join(show.SFTP_REMOTE_DIR, file)}`,
    receivedAt: receiverDir ? join(receiverDir, file) : null,
    manifest: posix.join(show.SFTP_REMOTE_DIR, manifestName),
    stats: manifest.stats,
    rows: manifest.rows,
    sha256: manifest.sha256,
    sample: file.endsWith('.csv') ? maskedSample(join(exportDir, file)) : [],
    seconds: Math.round((Date.now() - started) / 100) / 10,
    envFile: sandbox.envFile,
  };
  const api = await showRegistryApi({ ...input, env, demoDir }, hooks);
  return { ...delivered, api, previous };
}

/**
 * Steps 8–10: keys, servers, calls. Every server started is recorded at once in
 * `.local/demo/servers.json`, so even a demo killed half-way leaves nothing the next run cannot
 * stop; on a failure here the servers are stopped before the error goes up.
 */
async function showRegistryApi(
  input: DemoInput & { env: Record<string, string>; demoDir: string },
  hooks: DemoHooks,
): Promise<DemoApiResult> {
  const { day, seed, env, demoDir } = input;
  const started: { server: DemoServer; child: BackgroundProcess }[] = [];
  const stopAll = async () => {
    // Reverse order: the API before the stand-in it asks.
    for (const { child } of [...started].reverse()) await stopOwnServer(child);
    recordDemoServers([]);
  };
  /** Starts one server in the background and records it; `ready` waits for its `readyPath`. */
  const startServer = async (service: DemoService, readyPath: string, extra: Record<string, string>) => {
    const port = await choosePort(PREFERRED_PORT[service], LOOPBACK);
    const url = `http://${LOOPBACK}:${port}`;
    const log = join(demoDir, `${service}.log`);
    const child = hooks.startBackground(['serve', service, '--port', String(port)], {
      env: { ...env, ...extra },
      logFile: log,
    });
    const server: DemoServer = { service, pid: child.pid, startTicks: startTicksNow(child.pid), url, log };
    started.push({ server, child });
    recordDemoServers(started.map((s) => s.server));
    const ready = async () => {
      await waitUntilReady(`boarding serve ${service}`, `${url}${readyPath}`, child, log);
      hooks.progress(`${service} ready at ${url} (pid ${child.pid}, log ${log})`);
    };
    return { url, ready };
  };

  try {
    hooks.progress(`step 8/${STEPS}: one API key per channel — boarding apikey create --channel …`);
    // Side by side: each is a process of its own and a second or two of start-up.
    const created = await Promise.all(
      DEMO_CLIENTS.map(async (client) => {
        // Captured, never shown: only the key's id goes further than this map (and the WEB key
        // into the API's environment, for the page).
        const printed = await hooks.run(apiKeyCreateArgs(client), { env, capture: true });
        const key = CreatedApiKey.parse(JSON.parse(printed.trim().split('\n').at(-1) ?? 'null'));
        return [client.channel, key] as const;
      }),
    );
    const keys = new Map<DemoChannel, CreatedApiKey>(created);
    const keyOf = (channel: DemoChannel): CreatedApiKey => {
      const key = keys.get(channel);
      if (key === undefined) throw new Error(`no ${channel} key`);
      return key;
    };

    hooks.progress(
      `step 9/${STEPS}: the HES stand-in, on answers the simulator writes for the day's people, and the registry API — boarding serve hes-stand-in; boarding serve registry-api`,
    );
    const plan = planDay({ day, taps: input.taps, seed });
    const hesFile = join(demoDir, `hes-stand-in-${day}-seed${seed}.csv`);
    const answers = await writeHesAnswersCsv(hesFile, plan.hesAnswers());
    const people = pickPeople(plan.unmatchedPeople(), CITIZEN_CLIENTS.length);
    const standIn = await startServer('hes-stand-in', '/healthz', {
      HES_STAND_IN_DATA: hesFile,
      HES_STAND_IN_HOST: LOOPBACK,
    });
    const api = await startServer('registry-api', '/readyz', {
      HES_SERVICE_URL: standIn.url,
      REGISTRY_API_HOST: LOOPBACK,
      // The page at / serves a browser without a device key with this WEB key: the user opens
      // the address and matches a card, nothing to provision.
      REGISTRY_API_WEB_PAGE_KEY: keyOf('WEB').key,
    });
    // Both start at once: the API asks the stand-in only on a match, and its /readyz is PostgreSQL.
    await Promise.all([standIn.ready(), api.ready()]);

    hooks.progress(
      `step 10/${STEPS}: a card matched through each citizen channel, one looked up by staff — POST /v1/matches, POST /v1/staff/card-lookup`,
    );
    const calls: DemoApiCall[] = [];
    for (const [i, client] of CITIZEN_CLIENTS.entries()) {
      const person = people[i];
      if (person === undefined) throw new Error('fewer people than channels');
      const key = keyOf(client.channel);
      const answer = await postJson(api.url, '/v1/matches', key.key, matchRequestOf(person));
      const who = { channel: client.channel, location: client.location, keyId: key.id };
      calls.push(readMatchAnswer(who, person.cardNo, answer.status, answer.body));
    }
    const looked = people[0];
    if (looked === undefined) throw new Error('no person matched');
    const staff = keyOf('STAFF');
    const lookup = await postJson(api.url, '/v1/staff/card-lookup', staff.key, { cardNo: looked.cardNo });
    calls.push(
      readLookupAnswer(
        { channel: 'STAFF', location: null, keyId: staff.id },
        looked.cardNo,
        lookup.status,
        lookup.body,
      ),
    );

    const serve = input.serve ?? true;
    if (!serve) {
      hooks.progress('stopping the registry API and the HES stand-in (--no-serve)');
      await stopAll();
    }
    return {
      page: `${api.url}/`,
      pageKeyId: keyOf('WEB').id,
      hesStandIn: standIn.url,
      hesData: { file: hesFile, answers },
      calls,
      running: serve
        ? started.map(({ server: { service, pid, url, log } }) => ({ service, pid, url, log }))
        : [],
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/** The first rows of the local copy (its first 64 KiB is plenty), TC, HES and card masked. */
function maskedSample(path: string): DemoResult['sample'] {
  const buffer = Buffer.alloc(64 * 1024);
  const fd = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  const head = buffer
    .subarray(0, length)
    .toString('utf8')
    .split('\r\n')
    .slice(0, SAMPLE_ROWS + 1)
    .join('\r\n');
  const rows = parse(head, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => ({
    tc: maskTc(r.tc_kimlik_no ?? ''),
    hes: maskHes(r.hes_kodu ?? ''),
    card: maskCardNo(r.kart_no ?? ''),
    at: r.binis_zamani ?? '',
    mode: r.ulasim_turu ?? '',
    line: r.hat_kodu ?? '',
    result: r.sonuc ?? '',
  }));
}
