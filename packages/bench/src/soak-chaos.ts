import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BoardingChild, lastJson, leavingSoak, logTail, spawnBoarding } from './soak-process';
import type { ChaosServer } from './soak-settings';
import type { RestartReport } from './soak-stack';

/** mulberry32: a small seeded PRNG, so a chaos schedule can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (rand: () => number, min: number, max: number) => Math.round(min + rand() * (max - min));

export type KillTarget = 'ingest' | 'exporter' | 'export-run';

/** What cuts an upload in flight: a server stopped, or every process that may be uploading killed. */
export type UploadCut = 'postgres' | 'sftp' | 'kill';

export type ChaosAction =
  | { kind: 'restart'; server: ChaosServer; crash: boolean; downMs: number }
  | { kind: 'kill'; target: KillTarget; afterMs: number; restartAfterMs: number }
  | { kind: 'cut-upload'; cut: UploadCut; downMs: number; restartAfterMs: number };

// Servers whose SIGKILL is a fair crash to recover from. PostgreSQL is always stopped cleanly
// ("fast" shutdown: sessions cut, transactions rolled back): a SIGKILLed postmaster leaves its
// backends holding shared memory and the next start may refuse to run, which tests the stack,
// not the pipeline. sshd's clean stop already cuts every session.
const CRASHABLE: readonly ChaosServer[] = ['kafka', 'redis'];

/**
 * The next fault: every server of the chaos list, every kill target and an upload cut equally
 * likely. An upload cut waits for the next day-file upload to start at the receiver, then at
 * once stops PostgreSQL (the ledger write after the upload fails), or SFTP (when in the list),
 * or kills -9 whatever may be uploading: the window where a version could be reused. A
 * restart keeps the server down 1–8 s (a third of Kafka and Redis restarts are SIGKILLs); a
 * kill waits 1.5–7 s first (an export run is started and killed in the middle of its work: a
 * CLI process takes ~2 s to start, then builds and uploads) and
 * the service is started again 0.5–5 s after it died.
 */
export function planAction(rand: () => number, servers: readonly ChaosServer[]): ChaosAction {
  const targets: KillTarget[] = ['ingest', 'exporter', 'export-run'];
  const pick = Math.floor(rand() * (servers.length + targets.length + 1));
  if (pick === servers.length + targets.length) {
    const cuts: UploadCut[] = [
      'kill',
      ...servers.filter((s): s is 'postgres' | 'sftp' => s === 'postgres' || s === 'sftp'),
    ];
    return {
      kind: 'cut-upload',
      cut: cuts[Math.floor(rand() * cuts.length)] ?? 'kill',
      downMs: between(rand, 1000, 8000),
      restartAfterMs: between(rand, 500, 5000),
    };
  }
  const server = servers[pick];
  if (server !== undefined) {
    return {
      kind: 'restart',
      server,
      crash: CRASHABLE.includes(server) && rand() < 1 / 3,
      downMs: between(rand, 1000, 8000),
    };
  }
  return {
    kind: 'kill',
    target: targets[pick - servers.length] ?? 'ingest',
    afterMs: between(rand, 1500, 7000),
    restartAfterMs: between(rand, 500, 5000),
  };
}

/** Pause between two faults: 4–16 s. */
export const nextFaultInMs = (rand: () => number) => between(rand, 4000, 16000);
/** Pause between two `boarding export run` triggers: 10–40 s. */
export const nextExportInMs = (rand: () => number) => between(rand, 10000, 40000);

export type ChaosCounts = {
  restarts: Record<ChaosServer, number>;
  crashes: Record<ChaosServer, number>;
  kills: Record<KillTarget, number>;
  /** hung: still running after EXPORT_RUN_LIMIT_MS, killed by the harness (a finding, not a fault). */
  exportRuns: {
    started: number;
    delivered: number;
    unchanged: number;
    failed: number;
    killed: number;
    hung: number;
  };
  /** Upload cuts by kind; missed: no upload started within a minute of arming one. */
  cuts: Record<UploadCut | 'missed', number>;
  /** Faults that could not be carried out (a server that would not start again). */
  errors: string[];
};

export function emptyCounts(): ChaosCounts {
  return {
    restarts: { kafka: 0, postgres: 0, redis: 0, sftp: 0 },
    crashes: { kafka: 0, postgres: 0, redis: 0, sftp: 0 },
    kills: { ingest: 0, exporter: 0, 'export-run': 0 },
    exportRuns: { started: 0, delivered: 0, unchanged: 0, failed: 0, killed: 0, hung: 0 },
    cuts: { postgres: 0, sftp: 0, kill: 0, missed: 0 },
    errors: [],
  };
}

type ExportResultLine = { outcome?: string; version?: number; supersedes?: number | null };

/**
 * `boarding export run --day D` started at random moments beside the exporter service, one at
 * a time: each delivers a new version when the day's content changed since the last one
 * (the ingest is still catching up), else records UNCHANGED. Killed mid-work by the chaos.
 */
export class ExportRuns {
  private current: BoardingChild | undefined;
  private n = 0;
  private killing = false;
  private hung: BoardingChild | undefined;

  constructor(
    private readonly day: string,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly counts: ChaosCounts,
    private readonly progress: (message: string) => void,
  ) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  /** Starts a run unless one is running; `force`: re-deliver the last version if unchanged. */
  trigger(options: { force?: boolean } = {}): void {
    if (this.current || leavingSoak()) return;
    this.n++;
    const log = join(this.logDir, `export-run-${String(this.n).padStart(3, '0')}.log`);
    const args = ['export', 'run', '--day', this.day, '--json', ...(options.force ? ['--force'] : [])];
    const run = spawnBoarding(args, this.env, log);
    this.current = run;
    this.counts.exportRuns.started++;
    const n = this.n;
    // A run that never ends (a lock or a session that hangs) would hold every later trigger.
    const limit = setTimeout(() => {
      if (this.current !== run) return;
      this.hung = run;
      this.counts.exportRuns.hung++;
      this.progress(
        `export run #${n} (pid ${run.pid}) still running after ${EXPORT_RUN_LIMIT_MS / 60000} min: killed — ${log}`,
      );
      run.child.kill('SIGKILL');
    }, EXPORT_RUN_LIMIT_MS);
    void run.done.then((exit) => {
      clearTimeout(limit);
      this.current = undefined;
      if (this.hung === run) return;
      if (exit.signal === 'SIGKILL' && this.killing) {
        this.killing = false;
        return;
      }
      if (exit.code === 0) {
        const r = lastJson<ExportResultLine>(exit.stdout, 'export run');
        if (r.outcome === 'UNCHANGED') {
          this.counts.exportRuns.unchanged++;
          this.progress(`export run #${n}: unchanged since v${r.version}`);
        } else {
          this.counts.exportRuns.delivered++;
          this.progress(
            `export run #${n}: ${r.outcome} v${r.version}${r.supersedes ? ` (supersedes v${r.supersedes})` : ''}`,
          );
        }
        return;
      }
      this.counts.exportRuns.failed++;
      const why = logTail(log, 1)[0] ?? '';
      this.progress(`export run #${n}: failed (${exit.signal ?? `exit ${exit.code}`}) ${why.slice(0, 160)}`);
    });
  }

  /** SIGKILL the run in progress; returns its pid, or undefined when none was running. */
  async kill(): Promise<number | undefined> {
    const run = this.current;
    if (!run) return undefined;
    this.killing = true;
    this.counts.exportRuns.killed++;
    run.child.kill('SIGKILL');
    await run.done;
    return run.pid;
  }

  /** Waits for the run in progress (if any) to end. */
  async idle(): Promise<void> {
    await this.current?.done;
  }
}

/** The longest an export run may take before it counts as hung and is killed. */
const EXPORT_RUN_LIMIT_MS = 5 * 60000;

/** A long-running service the chaos kills and starts again. */
export type KillableService = {
  kill(): Promise<number | undefined>;
  start(): void;
  readonly pid: number | undefined;
};

export type ChaosContext = {
  rand: () => number;
  servers: readonly ChaosServer[];
  /** Epoch ms at which no new fault starts. */
  until: number;
  signal: AbortSignal;
  restart: (server: ChaosServer, options: { crash: boolean; downMs: number }) => Promise<RestartReport>;
  services: Record<'ingest' | 'exporter', KillableService>;
  exportRuns: ExportRuns;
  /** Resolves with the temporary name of the next day-file upload to start (or undefined). */
  nextUpload: (timeoutMs: number, signal: AbortSignal) => Promise<string | undefined>;
  /** Whether the day's content has stopped changing (then only a --force run uploads). */
  contentSettled: () => boolean;
  counts: ChaosCounts;
  progress: (message: string) => void;
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Faults one after another until `until`; a fault in progress is finished (servers restarted). */
export async function runChaos(ctx: ChaosContext): Promise<void> {
  let n = 0;
  while (Date.now() < ctx.until && !ctx.signal.aborted) {
    const wait = Math.min(nextFaultInMs(ctx.rand), Math.max(0, ctx.until - Date.now()));
    if (!(await pause(wait, ctx.signal)) || Date.now() >= ctx.until) break;
    const action = planAction(ctx.rand, ctx.servers);
    n++;
    if (action.kind === 'restart') await restartOne(ctx, action, n);
    else if (action.kind === 'kill') await killOne(ctx, action, n);
    else await cutUpload(ctx, action, n);
  }
}

async function restartOne(
  ctx: ChaosContext,
  action: Extract<ChaosAction, { kind: 'restart' }>,
  n: number,
): Promise<void> {
  ctx.progress(
    `fault ${n}: ${action.crash ? 'crashing (SIGKILL)' : 'stopping'} ${action.server} for ${seconds(action.downMs)}…`,
  );
  try {
    const r = await ctx.restart(action.server, { crash: action.crash, downMs: action.downMs });
    ctx.counts.restarts[action.server]++;
    if (r.crashed) ctx.counts.crashes[action.server]++;
    ctx.progress(
      `fault ${n}: restarted ${action.server} (${r.crashed ? 'crashed' : r.stopped}, down ${seconds(r.downMs)}, answering again after ${seconds(r.startMs)}${r.startTries > 1 ? `, ${r.startTries} start tries` : ''})`,
    );
  } catch (err) {
    const message = `${action.server} did not start again: ${(err as Error).message}`;
    ctx.counts.errors.push(message);
    throw new Error(message);
  }
}

async function killOne(
  ctx: ChaosContext,
  action: Extract<ChaosAction, { kind: 'kill' }>,
  n: number,
): Promise<void> {
  if (action.target === 'export-run') {
    ctx.exportRuns.trigger();
    await pause(action.afterMs, ctx.signal);
    const pid = await ctx.exportRuns.kill();
    if (pid === undefined) {
      ctx.progress(`fault ${n}: export run ended before its kill (${seconds(action.afterMs)})`);
      return;
    }
    ctx.counts.kills['export-run']++;
    ctx.progress(`fault ${n}: killed -9 export run (pid ${pid}) ${seconds(action.afterMs)} after its start`);
    return;
  }
  const service = ctx.services[action.target];
  const pid = await service.kill();
  if (pid === undefined) {
    ctx.progress(`fault ${n}: ${action.target} was not running; starting it`);
    service.start();
    return;
  }
  ctx.counts.kills[action.target]++;
  ctx.progress(
    `fault ${n}: killed -9 ${action.target} (pid ${pid}); starting it in ${seconds(action.restartAfterMs)}`,
  );
  await pause(action.restartAfterMs, ctx.signal);
  service.start();
  ctx.progress(`fault ${n}: ${action.target} started again (pid ${service.pid})`);
}

const UPLOAD_WAIT_MS = 60000;

async function cutUpload(
  ctx: ChaosContext,
  action: Extract<ChaosAction, { kind: 'cut-upload' }>,
  n: number,
): Promise<void> {
  const what = action.cut === 'kill' ? 'kill -9 the exporter and the export run' : `stop ${action.cut}`;
  const upload = ctx.nextUpload(UPLOAD_WAIT_MS, ctx.signal);
  // An upload happens only for new content, or a --force re-delivery once the day is settled.
  const force = ctx.contentSettled();
  ctx.exportRuns.trigger({ force });
  ctx.progress(
    `fault ${n}: waiting for an upload to start, to ${what} in its middle${force ? ' (export run --force)' : ''}`,
  );
  const name = await upload;
  if (name === undefined) {
    if (!ctx.signal.aborted) ctx.counts.cuts.missed++;
    ctx.progress(`fault ${n}: no upload started within ${UPLOAD_WAIT_MS / 1000}s`);
    return;
  }
  if (action.cut === 'kill') {
    const [exporterPid, runPid] = await Promise.all([ctx.services.exporter.kill(), ctx.exportRuns.kill()]);
    ctx.counts.cuts.kill++;
    if (exporterPid !== undefined) ctx.counts.kills.exporter++;
    if (runPid !== undefined) ctx.counts.kills['export-run']++;
    ctx.progress(
      `fault ${n}: upload ${name} started: killed -9 exporter (pid ${exporterPid ?? '-'}) and export run (pid ${runPid ?? '-'})`,
    );
    await pause(action.restartAfterMs, ctx.signal);
    ctx.services.exporter.start();
    return;
  }
  const server = action.cut;
  try {
    const r = await ctx.restart(server, { crash: false, downMs: action.downMs });
    ctx.counts.restarts[server]++;
    ctx.counts.cuts[server]++;
    ctx.progress(
      `fault ${n}: upload ${name} started: stopped ${server} at once (down ${seconds(r.downMs)}, answering again after ${seconds(r.startMs)})`,
    );
  } catch (err) {
    const message = `${server} did not start again: ${(err as Error).message}`;
    ctx.counts.errors.push(message);
    throw new Error(message);
  }
}

/**
 * `boarding export run` at random moments until `until`, from its own random sequence (the
 * faults' sequence stays the same whatever the triggers draw).
 */
export async function runExportTriggers(ctx: ChaosContext, rand: () => number): Promise<void> {
  while (Date.now() < ctx.until && !ctx.signal.aborted) {
    const wait = Math.min(nextExportInMs(rand), Math.max(0, ctx.until - Date.now()));
    if (!(await pause(wait, ctx.signal)) || Date.now() >= ctx.until) break;
    ctx.exportRuns.trigger();
  }
}

/** Sleeps `ms`; false when the run was interrupted meanwhile. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
