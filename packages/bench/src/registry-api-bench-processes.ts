import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from './harness';
import { type BoardingChild, logTail, spawnBoarding } from './soak-process';

/** A `boarding serve …` child of the bench, listening at `url`. */
export type ServedChild = { url: string; pid: number; log: string; stop: () => Promise<void> };

// tsx compiles the CLI's sources on start: seconds on a busy 2-core machine, not milliseconds.
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

/**
 * The value of `field` in the first JSON log line of `log` that has it as a string (the
 * services log their address once listening: `{"msg":"registry API listening","address":…}`).
 */
export function loggedField(logText: string, field: string): string | undefined {
  for (const line of logText.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = (JSON.parse(line) as Record<string, unknown>)[field];
      if (typeof value === 'string') return value;
    } catch {
      // a line being written: read again on the next poll
    }
  }
  return undefined;
}

/**
 * `boarding serve <service> --port 0` as a child process (its JSON logs in `log`); resolves with
 * the URL it logged once listening. Port 0 lets the kernel choose a free port, so the bench never
 * collides with a service of the local stack. Registered as a cleanup (SIGTERM, then SIGKILL),
 * so an interrupted run leaves no server behind.
 */
export async function serveChild(
  ctx: BenchContext,
  service: string,
  env: Record<string, string>,
  log: string,
  urlField: string,
): Promise<ServedChild> {
  const run: BoardingChild = spawnBoarding(['serve', service, '--port', '0'], env, log);
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  const stop = ctx.cleanup(`boarding serve ${service} (pid ${run.pid})`, async () => {
    if (exited) return;
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), STOP_GRACE_MS);
    await run.done.finally(() => clearTimeout(timer));
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const url = loggedField(readLog(log), urlField);
    if (url !== undefined) return { url, pid: run.pid, log, stop };
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(
        `boarding serve ${service} ${exited ? 'exited' : 'did not listen within 60 s'}; ${log}:\n  ${logTail(log, 6).join('\n  ')}`,
      );
    }
    await sleep(100);
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// Linux accounts process CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture.
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by each running process named `command` (`postgres`), by pid. */
export function commandCpuSeconds(command: string): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === command) {
        byPid.set(Number(entry), processCpuSeconds(Number(entry)));
      }
    } catch {
      // gone between the listing and the read
    }
  }
  return byPid;
}

/**
 * CPU seconds the processes of `after` used since `before`: a process started in between counts
 * whole, one that exited in between (a backend of a closed connection) is missed, so the sum is
 * a lower bound.
 */
export function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, cpu] of after) seconds += Math.max(0, cpu - (before.get(pid) ?? 0));
  return seconds;
}

/** CPU seconds the whole machine has been busy and idle so far, all cores summed. */
export function machineCpuSeconds(): { busy: number; idle: number } {
  let busy = 0;
  let idle = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    idle += times.idle;
  }
  return { busy: busy / 1000, idle: idle / 1000 };
}
