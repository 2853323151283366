import { existsSync } from 'node:fs';

/** Where Debian's libfaketime lives (apt-get install faketime). */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find(
  (p) => existsSync(p),
);

/** How a skewed process gets its clock: libfaketime when installed, else the test-only env hook. */
export const SKEW_METHOD: 'faketime' | 'CLOCK_OFFSET_FOR_TESTS_MS' = LIBFAKETIME ? 'faketime' : 'CLOCK_OFFSET_FOR_TESTS_MS';

/**
 * Env for a child process whose wall clock runs `offsetMs` off the machine's. With libfaketime
 * the whole process (Node, libuv, OpenSSL) sees the shifted time; the monotonic clock is left
 * alone so timers behave. Without it, CLOCK_OFFSET_FOR_TESTS_MS shifts Date.now only.
 */
export function skewedClockEnv(offsetMs: number): Record<string, string> {
  if (!LIBFAKETIME) return { CLOCK_OFFSET_FOR_TESTS_MS: String(offsetMs) };
  const seconds = offsetMs / 1000;
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME: `${seconds >= 0 ? '+' : ''}${seconds}s`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}
