/**
 * `npm run bench:abuse:attacker`: the command line of attacker-bench.ts; exits 1 when the
 * legitimate clients keep under 90 % of their throughput under attack.
 *
 *   npm run bench:abuse:attacker [-- --seconds 8 --rounds 3 --legit 24 --attackers 16 --addresses 2000]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './attacker-bench.ts';

runCli('bench:abuse:attacker', async () => {
  const args = parseCli({
    seconds: { type: 'string' },
    legit: { type: 'string' },
    attackers: { type: 'string' },
    addresses: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
  });
  return run({
    seconds: intArg(args.seconds, 'seconds', 8, 1),
    legit: intArg(args.legit, 'legit', 24, 1),
    attackers: intArg(args.attackers, 'attackers', 16, 1),
    addresses: intArg(args.addresses, 'addresses', 2_000, 1),
    rounds: intArg(args.rounds, 'rounds', 3, 1),
    out: args.out as string | undefined,
  });
});
