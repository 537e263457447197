/**
 * `work`, or `onTimeout()`'s error once `ms` have passed. The work itself goes on (nothing here
 * can cancel it: give it an AbortSignal for that); the race keeps a late rejection of it handled,
 * so it cannot crash the process.
 */
export async function withTimeout<T>(ms: number, work: Promise<T>, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The longest delay a Node timer takes as given. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `work`'s value, or `undefined` once `ms` have passed: for a wait that must end (a reading, a
 * shutdown) without failing the caller. As with `withTimeout`, the work goes on and a late
 * rejection of it stays handled. An `ms` beyond a timer's reach (infinite, or over 2^31 − 1: Node
 * would fire such a timer at once) waits for the work.
 */
export async function within<T>(ms: number, work: Promise<T>): Promise<T | undefined> {
  if (!(ms <= MAX_TIMER_MS)) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
