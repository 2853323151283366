/**
 * Polls `check` until it returns something other than undefined/false, and answers it; fails
 * after `timeoutMs`, naming `what` and the last error `check` threw (a throw counts as "not
 * yet"). A wait on a real condition, never a sleep standing in for one.
 */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
