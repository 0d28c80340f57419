/** Waits `ms` milliseconds, or less: an abort of `signal` ends the wait at once (resolving, not throwing). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits until the function handed to `arm` is called or the signal aborts. The abort listener is
 * removed either way: one left per wait piles up on a long run (Node warns past ten).
 */
export function wakeOrAbort(signal: AbortSignal | undefined, arm: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      signal?.removeEventListener('abort', done);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    arm(done);
  });
}
