/**
 * A bench's phases, run one after another. A phase that throws is recorded (and said at
 * once), the later phases still run and the results are still written, but the bench ends
 * failed: no phase can drop out of a report without a trace.
 */
export class Phases {
  readonly failed: Array<{ phase: string; error: string }> = [];

  constructor(private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  async run<T>(phase: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      const error = String((err as Error)?.stack ?? err);
      this.failed.push({ phase, error: String((err as Error)?.message ?? err) });
      this.log(`phase ${phase} failed: ${error}`);
      return null;
    }
  }
}
