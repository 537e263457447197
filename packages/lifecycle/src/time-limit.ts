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
