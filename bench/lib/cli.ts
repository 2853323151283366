import { ArgError } from './args.ts';

/**
 * The tail of every bench's command line: runs the bench and sets the exit code. A bench
 * answers the phases that failed (see phases.ts); any of them, or a throw, fails the
 * command (exit 1) after saying why; a bad flag exits 64 with the usage.
 */
export interface BenchOutcome {
  failed: ReadonlyArray<{ phase: string; error: string }>;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a bench's main may return nothing (an `async () => {}` is a Promise<void>)
export function runCli(name: string, main: () => Promise<BenchOutcome | void>, usage?: string): void {
  main()
    .then((outcome) => {
      const failed = outcome?.failed ?? [];
      for (const f of failed) process.stderr.write(`${name}: phase ${f.phase} FAILED: ${f.error}\n`);
      // Exit rather than wait: a bench may leave pools or agents open that would keep it alive.
      process.exit(failed.length > 0 ? 1 : ((process.exitCode as number | undefined) ?? 0));
    })
    .catch((err: unknown) => {
      if (err instanceof ArgError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`${(err as Error).message}\n${usage ? `${usage}\n` : ''}`);
        process.exit(64);
      }
      process.stderr.write(`${name} failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    });
}
