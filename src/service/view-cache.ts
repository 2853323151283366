import { promisify } from 'node:util';
import { constants as zlibConstants, gzip } from 'node:zlib';
import { Counter } from 'prom-client';
import type { SeatMap } from '../actors/seat-map.ts';
import type { ShowState } from '../actors/show-state.ts';
import {
  captureFullView,
  compactJson,
  compactLayoutJson,
  compactStatusBytes,
  fullViewChunks,
  type CompactLayoutJson,
} from '../actors/view-json.ts';
import { registry } from '../metrics.ts';
import type { CompactSeatMap } from '../core/seat-api.ts';

/** The two read forms of a show: `GET /v1/shows/{id}` and its compact sibling. */
export type ViewForm = 'full' | 'compact';

/** One committed version of a view, serialized once and shared by every reader. */
export interface SerializedView {
  showId: string;
  form: ViewForm;
  version: number;
  /** The JSON body. Shared: never write into it. */
  bytes: Buffer;
  /** The same body gzipped, compressed at most once (in libuv's thread pool, off the event loop) and shared. */
  gzipped(): Promise<Buffer>;
}

export interface ViewCacheOptions {
  /** Bytes of serialized views kept over all shows; least recently read go first. */
  maxBytes: number;
  /** From this many seats a full view is serialized in slices and may be served slightly old (below). */
  bigSeats: number;
  /**
   * A big show's cached full view is served while it was captured at most this long ago,
   * even when newer versions have committed since: it is still one exact committed
   * version, its `version` says which, and WebSocket deltas carry a client forward.
   * 0: always rebuild for a newer version (readers still coalesce onto one build).
   */
  maxStaleMs: number;
  /** Seats serialized per slice before the event loop gets a turn. */
  chunkSeats: number;
  now?: () => number;
}

export const DEFAULT_VIEW_CACHE_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_VIEW_CACHE_BIG_SEATS = 20_000;
export const DEFAULT_VIEW_CACHE_MAX_STALE_MS = 1_000;
export const DEFAULT_VIEW_CACHE_CHUNK_SEATS = 4_096;

export const DEFAULT_VIEW_CACHE_OPTIONS: ViewCacheOptions = {
  maxBytes: DEFAULT_VIEW_CACHE_MAX_BYTES,
  bigSeats: DEFAULT_VIEW_CACHE_BIG_SEATS,
  maxStaleMs: DEFAULT_VIEW_CACHE_MAX_STALE_MS,
  chunkSeats: DEFAULT_VIEW_CACHE_CHUNK_SEATS,
};

/** How a read was answered, for metrics and tests. */
export type ViewSource = 'built' | 'cached' | 'recent' | 'coalesced';

const viewBuilds = new Counter({
  name: 'seats_view_builds_total',
  help: 'Show views serialized (full or compact); every other read of that version shares the bytes',
  labelNames: ['form'] as const,
  registers: [registry],
});
const viewReads = new Counter({
  name: 'seats_view_reads_total',
  help: 'Show view reads by how they were answered: built, cached (same version), recent (big show, within the staleness bound), coalesced (joined a build in flight)',
  labelNames: ['form', 'source'] as const,
  registers: [registry],
});

interface Entry {
  view: SerializedView;
  /** The compact object form of the same version (compact entries only). */
  object?: CompactSeatMap;
  layoutVersion: number;
  capturedAt: number;
  /** Bytes held beside the body (its gzipped form, once made). */
  extraBytes: number;
}

interface Building {
  version: number;
  done: Promise<Entry>;
}

/** Something that runs a function on a show's committed state (ActorHost.read). */
export type CommittedRead = <T>(showId: string, fn: (state: ShowState) => T) => Promise<T>;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const gzipAsync = promisify(gzip);
/** Fastest level: a 13.8 MB full view shrinks about 20-fold even so. */
const GZIP_OPTIONS = { level: zlibConstants.Z_BEST_SPEED };

/**
 * Serialized show views, one entry per show and form: the latest version read. Every
 * reader of that version shares one Buffer; a newer version replaces it. Readers arriving
 * while a big view is being serialized wait for that one build instead of starting their
 * own. Bounded by bytes (least recently read evicted first); entries of shows no longer
 * active in this process are dropped by `forgetInactive`.
 *
 * Only ever fed from committed state: the decision (hit, join, build) and the capture of
 * a build happen synchronously inside one committed read.
 * Single-threaded: runs on the event loop; a big build spans many turns, from its capture.
 */
export class ViewCache {
  private readonly opts: ViewCacheOptions & { now: () => number };
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private readonly building = new Map<string, Building>();
  private readonly layouts = new WeakMap<SeatMap, CompactLayoutJson>();
  private bytes = 0;
  private readonly counts: Record<ViewSource, number> = { built: 0, cached: 0, recent: 0, coalesced: 0 };

  constructor(
    private readonly read: CommittedRead,
    opts: Partial<ViewCacheOptions> = {},
  ) {
    this.opts = { now: Date.now, ...DEFAULT_VIEW_CACHE_OPTIONS, ...opts };
  }

  /** The show's full view as JSON bytes. */
  async full(showId: string): Promise<SerializedView> {
    return (await this.get(showId, 'full')).view;
  }

  /** The show's compact view as JSON bytes. */
  async compact(showId: string): Promise<SerializedView> {
    return (await this.get(showId, 'compact')).view;
  }

  /** The compact view as an object (WebSocket and gRPC snapshots), shared per version. */
  async compactObject(showId: string): Promise<CompactSeatMap> {
    return (await this.get(showId, 'compact')).object as CompactSeatMap;
  }

  /** Reads answered so far, by how. */
  stats(): Record<ViewSource, number> & { entries: number; bytes: number } {
    return { ...this.counts, entries: this.entries.size, bytes: this.bytes };
  }

  /** Drops every entry of a show (passivated, handed over, deleted). */
  forget(showId: string): void {
    for (const form of ['full', 'compact'] as const) this.remove(`${form}\n${showId}`);
  }

  /** Drops the entries of shows `isActive` no longer knows. */
  forgetInactive(isActive: (showId: string) => boolean): void {
    for (const [key, e] of [...this.entries]) if (!isActive(e.view.showId)) this.remove(key);
  }

  private async get(showId: string, form: ViewForm): Promise<Entry> {
    return await this.read(showId, (state) => this.choose(showId, form, state));
  }

  /** Runs inside a committed read: every decision sees one version. */
  private choose(showId: string, form: ViewForm, state: ShowState): Entry | Promise<Entry> {
    const key = `${form}\n${showId}`;
    const entry = this.entries.get(key);
    if (entry && entry.view.version === state.version && entry.layoutVersion === state.layoutVersion) {
      this.touch(key, entry);
      return this.answered(form, 'cached', entry);
    }
    const big = form === 'full' && state.seatStatus.length >= this.opts.bigSeats;
    if (big) {
      if (entry && this.opts.maxStaleMs > 0 && this.opts.now() - entry.capturedAt <= this.opts.maxStaleMs) {
        this.touch(key, entry);
        return this.answered(form, 'recent', entry);
      }
      const inFlight = this.building.get(key);
      // Joining a build started before the newest commit still answers with one exact,
      // recent committed version; one build at a time per show is what keeps reads cheap.
      if (inFlight) {
        this.count(form, 'coalesced');
        return inFlight.done;
      }
      return this.buildBig(key, showId, state);
    }
    this.count(form, 'built');
    viewBuilds.inc({ form });
    const built = form === 'full' ? this.buildFullNow(showId, state) : this.buildCompact(showId, state);
    this.store(key, built);
    return built;
  }

  private answered(form: ViewForm, source: ViewSource, entry: Entry): Entry {
    this.count(form, source);
    return entry;
  }

  private count(form: ViewForm, source: ViewSource): void {
    this.counts[source]++;
    viewReads.inc({ form, source });
  }

  private buildFullNow(showId: string, state: ShowState): Entry {
    const capture = captureFullView(state);
    const bytes = Buffer.concat([...fullViewChunks(capture, capture.statuses.length || 1)]);
    return this.entryOf(showId, 'full', state, bytes);
  }

  private buildBig(key: string, showId: string, state: ShowState): Promise<Entry> {
    this.count('full', 'built');
    viewBuilds.inc({ form: 'full' });
    const capture = captureFullView(state);
    const capturedAt = this.opts.now();
    const { layoutVersion } = state;
    const done = (async () => {
      const chunks: Buffer[] = [];
      for (const chunk of fullViewChunks(capture, this.opts.chunkSeats)) {
        chunks.push(chunk);
        await turn();
      }
      const entry: Entry = {
        view: this.viewOf(key, showId, 'full', capture.version, Buffer.concat(chunks)),
        layoutVersion,
        capturedAt,
        extraBytes: 0,
      };
      // A slower build never replaces a newer version stored meanwhile.
      const current = this.entries.get(key);
      if (!current || current.view.version <= entry.view.version) this.store(key, entry);
      return entry;
    })().finally(() => {
      if (this.building.get(key)?.done === done) this.building.delete(key);
    });
    this.building.set(key, { version: capture.version, done });
    return done;
  }

  private buildCompact(showId: string, state: ShowState): Entry {
    let layout = this.layouts.get(state.seatMap);
    if (!layout) {
      layout = compactLayoutJson(state.seatMap);
      this.layouts.set(state.seatMap, layout);
    }
    const seats = compactStatusBytes(state.seatStatus);
    const entry = this.entryOf(showId, 'compact', state, compactJson(state, layout, seats));
    entry.object = {
      showId,
      version: state.version,
      layoutVersion: state.layoutVersion,
      status: state.status,
      labels: layout.labelArray,
      categoryOf: layout.categoryOfArray,
      categories: state.def.categories,
      seats: seats.toString('latin1'),
      rows: state.seatMap.rows,
    };
    return entry;
  }

  private entryOf(showId: string, form: ViewForm, state: ShowState, bytes: Buffer): Entry {
    const key = `${form}\n${showId}`;
    return {
      view: this.viewOf(key, showId, form, state.version, bytes),
      layoutVersion: state.layoutVersion,
      capturedAt: this.opts.now(),
      extraBytes: 0,
    };
  }

  private viewOf(key: string, showId: string, form: ViewForm, version: number, bytes: Buffer): SerializedView {
    let compressed: Promise<Buffer> | null = null;
    const view: SerializedView = {
      showId,
      form,
      version,
      bytes,
      gzipped: () => {
        compressed ??= gzipAsync(bytes, GZIP_OPTIONS).then((gz) => {
          // Counted against the budget while its entry is kept.
          const entry = this.entries.get(key);
          if (entry?.view === view) {
            entry.extraBytes += gz.length;
            this.bytes += gz.length;
            this.trim();
          }
          return gz;
        });
        return compressed;
      },
    };
    return view;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private store(key: string, entry: Entry): void {
    this.remove(key);
    const size = entry.view.bytes.length;
    // One view larger than the whole budget is served but not kept.
    if (size > this.opts.maxBytes) return;
    this.entries.set(key, entry);
    this.bytes += size + entry.extraBytes;
    this.trim();
  }

  /** Drops least recently read entries until within the budget. */
  private trim(): void {
    for (const [oldKey] of this.entries) {
      if (this.bytes <= this.opts.maxBytes) break;
      this.remove(oldKey);
    }
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.view.bytes.length + e.extraBytes;
  }
}
