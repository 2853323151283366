import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BookingView } from '../actors/types.ts';
import type { Logger } from '../logger.ts';
import { fsyncDir } from './file-atomic.ts';
import { snapshotFileName } from './file-snapshot-store.ts';
import { matchesBookingQuery } from '../core/booking-query.ts';
import { bookingsByShow } from './bookings-by-show.ts';
import type { BookingQuery, BookingStore } from '../core/ports.ts';

/** One archive file per show: the snapshot file's safe name with its own extension. */
export function archiveFileName(showId: string): string {
  return snapshotFileName(showId).replace(/\.json$/, '.jsonl');
}

/**
 * The embedded store's booking archive: the bookings shows no longer keep in memory (cancelled
 * long enough ago that no retry can need them from the show), one JSON line per booking in one
 * append-only file per show, fsynced before `upsert` resolves. The newest line of a booking
 * wins. Each write starts with a newline, so a line torn by a crash stays a line of its own
 * and is skipped on read (its booking is archived again: the show forgets only after the
 * archive write succeeded). Reads scan the show's file: archived bookings are read rarely.
 */
export class FileBookingArchive implements BookingStore {
  private readonly chains = new Map<string, Promise<void>>();

  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger): Promise<FileBookingArchive> {
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) await fsyncDir(dirname(created));
    return new FileBookingArchive(dir, logger.child({ subsystem: 'booking-archive' }));
  }

  async upsert(bookings: BookingView[]): Promise<void> {
    await Promise.all([...bookingsByShow(bookings)].map(([showId, views]) => this.append(showId, views)));
  }

  async get(showId: string, bookingId: string): Promise<BookingView | null> {
    const text = await this.read(showId);
    if (text === null) return null;
    const needle = JSON.stringify(bookingId);
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i];
      if (!line.includes(needle)) continue;
      try {
        const view = JSON.parse(line) as BookingView;
        if (view.bookingId === bookingId && view.showId === showId) return view;
      } catch {
        this.logger.warn({ showId, line: i + 1 }, 'unreadable booking archive line skipped');
      }
    }
    return null;
  }

  /** Scans the show's file (newest line of each booking wins), then filters, orders and pages. */
  async list(showId: string, query: BookingQuery): Promise<BookingView[]> {
    const text = await this.read(showId);
    if (text === null) return [];
    const newest = new Map<string, BookingView>();
    for (const [i, line] of text.split('\n').entries()) {
      if (line === '') continue;
      try {
        const view = JSON.parse(line) as BookingView;
        if (view.showId === showId) newest.set(view.bookingId, view);
      } catch {
        this.logger.warn({ showId, line: i + 1 }, 'unreadable booking archive line skipped');
      }
    }
    const after = query.after;
    return [...newest.values()]
      .filter((b) => (after === undefined || b.bookingId > after) && matchesBookingQuery(b, query))
      .sort((a, b) => (a.bookingId < b.bookingId ? -1 : a.bookingId > b.bookingId ? 1 : 0))
      .slice(0, query.limit);
  }

  /** The show's archive file once every write already started has landed; null when there is none. */
  private async read(showId: string): Promise<string | null> {
    await this.chains.get(showId);
    try {
      return await readFile(this.pathOf(showId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  private append(showId: string, views: BookingView[]): Promise<void> {
    const prev = this.chains.get(showId) ?? Promise.resolve();
    const next = prev.then(async () => {
      const fh = await open(this.pathOf(showId), 'a');
      try {
        await fh.appendFile(`\n${views.map((v) => JSON.stringify(v)).join('\n')}`);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    const tail = next.catch(() => {});
    this.chains.set(showId, tail);
    void tail.then(() => {
      if (this.chains.get(showId) === tail) this.chains.delete(showId);
    });
    return next;
  }

  private pathOf(showId: string): string {
    return join(this.dir, archiveFileName(showId));
  }
}
