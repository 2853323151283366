// A gateway in its own process, so a test can measure its memory honestly. Driven over IPC:
// 'stats' → rss, retained memory after a GC, and hub stats; 'flood' → keep blocking/unblocking every seat; 'stop-flood';
// 'map' → the server's seat map. Options come as JSON in argv[2].
import pino from 'pino';
import { ErrorCode, SeatError } from '../../src/errors.ts';
import type { AppendBatch, EventLog, LogEntry } from '../../src/persistence/index.ts';
import { showDef } from '../../testkit/shows.ts';
import { startWsServer } from './ws-harness.ts';

/**
 * A log that keeps positions but forgets entries: the flood appends megabytes of events a
 * second, and a log that kept them would hide the gateway's memory behind its own growth.
 */
class ForgetfulLog implements EventLog {
  private seq = 0;
  private readonly last = new Map<string, number>();
  async append(showId: string, _batch: AppendBatch, expectedLastSeq: number): Promise<number> {
    if ((this.last.get(showId) ?? 0) !== expectedLastSeq) throw new SeatError(ErrorCode.NOT_OWNER, 'log moved');
    this.last.set(showId, ++this.seq);
    return this.seq;
  }
  async *read(): AsyncIterable<LogEntry> {}
  async lastSeq(showId: string): Promise<number> {
    return this.last.get(showId) ?? 0;
  }
  async showIds(): Promise<string[]> {
    return [...this.last.keys()];
  }
  async close(): Promise<void> {}
}

const opts = JSON.parse(process.argv[2] ?? '{}') as { rows?: number; seatsPerRow?: number; ws?: Record<string, number> };
const srv = await startWsServer({
  shows: [showDef('big', opts.rows ?? 40, opts.seatsPerRow ?? 500)],
  ws: opts.ws ?? {},
  storage: (s) => ({ ...s, log: new ForgetfulLog() }),
});
const log = pino({ level: 'silent' });
const labels = (await srv.node.service.getSeatMap('big')).labels;
let flooding = false;
let floodCommands = 0;

/** Every seat changes status on each step; one step per 20 ms keeps frames large and steady. */
async function flood(): Promise<void> {
  let block = true;
  while (flooding) {
    const started = Date.now();
    if (block) await srv.node.service.blockSeats('big', labels);
    else await srv.node.service.unblockSeats('big', labels);
    block = !block;
    floodCommands++;
    await new Promise((r) => setTimeout(r, Math.max(0, 20 - (Date.now() - started))));
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (m: { id: number; cmd: string }) => {
  const reply = (body: object) => process.send?.({ id: m.id, ...body });
  switch (m.cmd) {
    case 'stats': {
      // Collect first (run with --expose-gc), so garbage not yet collected is not counted as held.
      gc?.();
      const mem = process.memoryUsage();
      reply({ rss: mem.rss, retained: mem.heapUsed + mem.external, floodCommands, ws: srv.ws.stats() });
      break;
    }
    case 'flood':
      flooding = true;
      void flood().catch((err: unknown) => log.error({ err }, 'flood failed'));
      reply({});
      break;
    case 'stop-flood':
      flooding = false;
      reply({});
      break;
    case 'map':
      void srv.node.service.getSeatMap('big').then((map) => reply({ version: map.version, seats: map.seats }));
      break;
    case 'exit':
      void srv.stop().then(() => process.exit(0));
      break;
  }
});
process.send?.({ id: 0, wsUrl: srv.wsUrl });
