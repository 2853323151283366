import { randomBytes } from 'node:crypto';
import { ArgError, intArg, listArg, numberArg, parseCli } from '../lib/args.ts';
import { resultPath } from '../lib/results.ts';
import { BACKENDS, type BackendName } from './backends.ts';
import { run, type CompareOptions } from './compare.ts';
import { DEFAULT_SIZES, PHASES, type PhaseName } from './workload.ts';

/**
 * `npm run bench:compare`: the command line of compare.ts. Exit 0 when every phase ran and
 * checked out, 1 when a phase failed or a backend failed to start (a backend skipped for a
 * missing service is reported, not a failure), 2 when a backend oversold or lost a seat.
 */

const USAGE = `usage: npm run bench:compare -- [options]
  --quick                 about a minute: short phases, 100 spread shows
  --duration S            seconds of load per backend and phase (default 20, quick 2)
  --warmup S              unmeasured load before each window (default 2, quick 0.5)
  --connections N         concurrent clients (default 64)
  --generators N          load generator processes sharing the clients (default 2)
  --backends a,b          from ${BACKENDS.join(', ')}
  --phases a,b            from ${PHASES.join(', ')}
  --repeat N              run every backend and phase N times, interleaved; report each ratio's median and spread (default 1)
  --url URL               drive a running gateway instead of starting backends
  --admin-token T         its admin token (with --url)
  --hot-seats N --spread-shows N --spread-seats N --best-seats N   workload sizes
  --timeout S             per-request timeout (default 10)
  --verify-sample N       bookings fetched back per backend and phase (default 2000)
  --out FILE              where compare.json goes (the .svg and .md go beside it)`;

const OPTIONS = {
  quick: { type: 'boolean' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  generators: { type: 'string' },
  backends: { type: 'string' },
  phases: { type: 'string' },
  repeat: { type: 'string' },
  url: { type: 'string' },
  'admin-token': { type: 'string' },
  'hot-seats': { type: 'string' },
  'spread-shows': { type: 'string' },
  'spread-seats': { type: 'string' },
  'best-seats': { type: 'string' },
  timeout: { type: 'string' },
  'verify-sample': { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean' },
} as const;

function options(): CompareOptions {
  const a = parseCli(OPTIONS);
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = a.quick === true;
  const external = typeof a.url === 'string';
  if (external) new URL(a.url as string);
  const defaultBackends: BackendName[] = external ? ['external'] : [...BACKENDS];
  const backends = listArg<BackendName>(a.backends, 'backends', defaultBackends, external ? ['external', ...BACKENDS] : [...BACKENDS]);
  return {
    quick,
    durationSec: numberArg(a.duration, 'duration', quick ? 2 : 20, 0.5),
    warmupSec: numberArg(a.warmup, 'warmup', quick ? 0.5 : 2, 0),
    connections: intArg(a.connections, 'connections', 64, 1),
    generators: intArg(a.generators, 'generators', 2, 1),
    backends,
    phases: listArg<PhaseName>(a.phases, 'phases', PHASES, PHASES),
    repeat: intArg(a.repeat, 'repeat', 1, 1),
    url: a.url as string | undefined,
    adminToken: (a['admin-token'] as string | undefined) ?? `bench-${randomBytes(12).toString('base64url')}`,
    sizes: {
      hotSeats: intArg(a['hot-seats'], 'hot-seats', DEFAULT_SIZES.hotSeats, 10),
      spreadShows: intArg(a['spread-shows'], 'spread-shows', quick ? 100 : DEFAULT_SIZES.spreadShows, 1),
      spreadSeats: intArg(a['spread-seats'], 'spread-seats', DEFAULT_SIZES.spreadSeats, 10),
      bestSeats: intArg(a['best-seats'], 'best-seats', DEFAULT_SIZES.bestSeats, 10),
    },
    timeoutSec: intArg(a.timeout, 'timeout', 10, 1),
    verifySample: intArg(a['verify-sample'], 'verify-sample', 2000, 0),
    out: (a.out as string | undefined) ?? resultPath('compare'),
  };
}

run(options())
  .then(({ failed, incorrect }) => {
    process.exitCode = incorrect.length > 0 ? 2 : failed.length > 0 ? 1 : 0;
  })
  .catch((err: unknown) => {
    if (err instanceof ArgError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
      process.exit(64);
    }
    process.stderr.write(`bench:compare failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
