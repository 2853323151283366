import { Agent, request } from 'node:http';

/**
 * The edge bench's clients: each one holds two adjacent seats of its own slice of a show,
 * then releases them, or (every `confirmEvery`-th cycle) confirms them and moves on to the
 * next two. Every request is keyed (Idempotency-Key), as clients are told to, over keep-alive
 * sockets. The slices never overlap, so a non-2xx answer is a bug, counted as an error.
 */

export interface LoadOptions {
  url: string;
  /** Show ids; client i works in show i % shows.length. */
  shows: string[];
  seatsPerRow: number;
  rows: number;
  concurrency: number;
  confirmEvery: number;
  /** Makes idempotency keys unique across runs against one server. */
  keyPrefix: string;
  /**
   * Requests per second for all clients together; 0: as fast as answers come. A fixed rate
   * below saturation makes runs comparable: the shows then batch alike whatever else the
   * machine is doing.
   */
  rate?: number;
}

export interface LoadCounts {
  holds: number;
  releases: number;
  confirms: number;
  errors: number;
  /** The first few error answers, to say what went wrong. */
  errorSamples: string[];
}

interface Answer {
  status: number;
  body: string;
}

export class EdgeLoad {
  readonly counts: LoadCounts = { holds: 0, releases: 0, confirms: 0, errors: 0, errorSamples: [] };
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly agent: Agent;
  private seq = 0;
  /** When the next request may start (ms, performance.now), under a fixed rate. */
  private nextSlot = 0;

  constructor(private readonly opts: LoadOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  }

  get requests(): number {
    return this.counts.holds + this.counts.releases + this.counts.confirms;
  }

  start(): void {
    this.running = true;
    const perShow = Math.ceil(this.opts.concurrency / this.opts.shows.length);
    const rowsPerClient = Math.max(1, Math.floor(this.opts.rows / perShow));
    for (let c = 0; c < this.opts.concurrency; c++) {
      const show = this.opts.shows[c % this.opts.shows.length] as string;
      const slot = Math.floor(c / this.opts.shows.length);
      this.loops.push(this.client(show, slot * rowsPerClient, rowsPerClient));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }

  private async client(show: string, firstRow: number, rowCount: number): Promise<void> {
    const { seatsPerRow, confirmEvery } = this.opts;
    const pairsPerRow = Math.floor(seatsPerRow / 2);
    const pairs = rowCount * pairsPerRow;
    let pair = 0;
    let cycle = 0;
    while (this.running) {
      const row = firstRow + Math.floor(pair / pairsPerRow);
      const n = (pair % pairsPerRow) * 2 + 1;
      const seats = [`R${row}-${n}`, `R${row}-${n + 1}`];
      const held = await this.send('POST', `/v1/shows/${show}/holds`, JSON.stringify({ seats }), {});
      if (held.status !== 201) {
        this.error(held);
        continue;
      }
      this.counts.holds++;
      const { holdId, holdToken } = JSON.parse(held.body) as { holdId: string; holdToken: string };
      cycle++;
      // Confirm while this client still has seats of its own; past that, release only.
      const confirm = cycle % confirmEvery === 0 && pair + 1 < pairs;
      if (confirm) {
        const r = await this.send('POST', `/v1/shows/${show}/holds/${holdId}/confirm`, '{}', { 'hold-token': holdToken });
        if (r.status === 201) {
          this.counts.confirms++;
          pair++;
        } else this.error(r);
      } else {
        const r = await this.send('DELETE', `/v1/shows/${show}/holds/${holdId}`, '', { 'hold-token': holdToken });
        if (r.status === 204) this.counts.releases++;
        else this.error(r);
      }
    }
  }

  private error(a: Answer): void {
    this.counts.errors++;
    if (this.counts.errorSamples.length < 5) this.counts.errorSamples.push(`${a.status} ${a.body.slice(0, 200)}`);
  }

  /** Waits for this request's turn under a fixed rate: slots 1/rate apart, handed out in order. */
  private async pace(): Promise<void> {
    const rate = this.opts.rate ?? 0;
    if (rate <= 0) return;
    const now = performance.now();
    // A client late for its slot does not earn a burst: slots start again from now.
    this.nextSlot = Math.max(this.nextSlot, now - 50) + 1000 / rate;
    const wait = this.nextSlot - now;
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }

  private async send(method: string, path: string, body: string, headers: Record<string, string>): Promise<Answer> {
    await this.pace();
    const u = new URL(path, this.opts.url);
    const key = `${this.opts.keyPrefix}-${(this.seq++).toString(36).padStart(10, '0')}`;
    const h: Record<string, string | number> = { ...headers, 'idempotency-key': key };
    if (body !== '') {
      h['content-type'] = 'application/json';
      h['content-length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', (err) => resolve({ status: 0, body: err.message }));
      req.end(body === '' ? undefined : body);
    });
  }
}
