import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { BenchContext } from './harness';

export type TsChild = {
  /** Its stdout, once it has exited 0; rejects on any other exit. */
  done: Promise<string>;
  /** SIGTERM, if still running. */
  kill(): void;
};

/**
 * A TypeScript file of this package run as its own process: `node --require tsx/cjs FILE …`,
 * without the tsx CLI in between, so the pid is the process doing the work (its peak RSS is
 * that work's). stderr passes through as progress; stdout is collected for the result. An
 * interrupted run kills it before removing what it works on (cleanups run newest first).
 */
export function startTsChild(
  ctx: BenchContext,
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
): TsChild {
  const child = spawn(
    process.execPath,
    ['--require', require.resolve('tsx/cjs'), join(__dirname, file), ...args],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const stop = ctx.cleanup(`${file} (pid ${child.pid})`, async () => kill());
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  const done = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': stdout is read to its end.
    child.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${file} ${args.join(' ')} exited with ${signal ?? code}`));
    });
  }).finally(stop);
  return { done, kill };
}

/** The last line of a child's stdout, parsed as the JSON object it promised. */
export function lastJsonLine(stdout: string, who: string): Record<string, unknown> {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let value: unknown;
  try {
    value = JSON.parse(last);
  } catch {
    throw new Error(`${who} printed no JSON result: ${JSON.stringify(last.slice(0, 200))}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${who} printed JSON that is not an object`);
  }
  return value as Record<string, unknown>;
}

/** Field `key` of a child's result, which must be a finite number ≥ 0. */
export function numberField(result: Record<string, unknown>, key: string, who: string): number {
  const n = result[key];
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
    throw new Error(`${who} result: ${key} is ${JSON.stringify(n)}, not a number ≥ 0`);
  }
  return n;
}
