import { readFile } from 'node:fs/promises';
import type { ShowSummary } from '../actors/views.ts';
import type { Logger } from '../logger.ts';
import { writeFileAtomic } from './file-atomic.ts';
import { MemoryCatalog } from './memory-store.ts';

/** Upserts within this window are written together (an on-sale updates summaries constantly). */
export const DEFAULT_CATALOG_FLUSH_DELAY_MS = 250;

interface CatalogFile {
  format: 1;
  shows: ShowSummary[];
}

/**
 * The in-memory catalog, persisted as one JSON file rewritten atomically a short while after
 * changes and on close. The catalog is eventually consistent by contract and can be rebuilt
 * from the log, so a crash losing the last few hundred milliseconds of upserts is acceptable.
 */
export class FileCatalog extends MemoryCatalog {
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;

  private constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly flushDelayMs: number,
  ) {
    super();
  }

  static async open(path: string, logger: Logger, flushDelayMs = DEFAULT_CATALOG_FLUSH_DELAY_MS): Promise<FileCatalog> {
    const catalog = new FileCatalog(path, logger.child({ subsystem: 'catalog' }), flushDelayMs);
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null) {
      const file = JSON.parse(text) as CatalogFile;
      if (file.format !== 1) throw new Error(`${path}: unknown catalog format ${String(file.format)}`);
      for (const s of file.shows) catalog.shows.set(s.id, s);
    }
    return catalog;
  }

  override async upsert(summary: ShowSummary): Promise<void> {
    await super.upsert(summary);
    this.dirty = true;
    this.schedule();
  }

  /** Writes pending changes now; resolves once they are on disk. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.dirty || this.writing) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      this.dirty = false;
      this.writing = this.write().finally(() => {
        this.writing = null;
      });
    }
  }

  override async close(): Promise<void> {
    await this.flush();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch((err: unknown) => this.logger.warn({ err }, 'catalog flush failed'));
    }, this.flushDelayMs);
    // A pending flush must not keep the process alive; close() flushes.
    this.timer.unref();
  }

  private async write(): Promise<void> {
    const file: CatalogFile = { format: 1, shows: [...this.shows.values()] };
    try {
      await writeFileAtomic(this.path, JSON.stringify(file));
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}
