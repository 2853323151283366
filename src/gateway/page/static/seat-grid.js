// The seat map: decodes the compact snapshot (rows + one status character per seat) and
// keeps one element per seat with data-seat / data-status, updated in place on deltas.
// Types (checked by tsconfig.page.json, never shipped): the frames of src/gateway/ws/protocol.ts.

/** @typedef {import('../../ws/protocol.ts').SnapshotFrameShape} SnapshotFrame */
/** @typedef {import('../../ws/protocol.ts').DeltaFrameShape} DeltaFrame */
/** @typedef {DeltaFrame['changes'][number][1]} SeatStatus */
/** @typedef {SnapshotFrame['categories'][number]} Category */

/** @type {Readonly<Record<string, SeatStatus>>} */
export const STATUS_OF = { a: 'available', h: 'held', b: 'booked', x: 'blocked' };

export class SeatGrid {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.el = container;
    /** @type {string | null} */
    this.showId = null;
    /** @type {number | null} */
    this.version = null;
    /** @type {number | null} */
    this.layoutVersion = null;
    /** @type {string[]} */
    this.labels = [];
    /** @type {number[]} */
    this.categoryOf = [];
    /** @type {Category[]} */
    this.categories = [];
    /** @type {SnapshotFrame['status']} */
    this.status = 'scheduled';
    /** @type {Map<string, HTMLElement>} */
    this.byLabel = new Map();
    /** @type {Map<string, SeatStatus>} */
    this.statusOf = new Map();
    this.clear();
  }

  clear() {
    this.showId = null;
    this.version = null;
    this.layoutVersion = null;
    this.labels = [];
    this.categoryOf = [];
    this.categories = [];
    this.status = 'scheduled';
    this.byLabel = new Map();
    this.statusOf = new Map();
    this.el.replaceChildren();
  }

  /**
   * Applies a snapshot frame; rebuilds the elements when it carries a layout.
   * @param {SnapshotFrame} f
   * @returns {boolean} false when the frame omits a layout we do not have
   */
  applySnapshot(f) {
    if (f.rows || f.showId !== this.showId || f.layoutVersion !== this.layoutVersion) {
      if (!f.rows) return false; // layout unknown to us: caller resubscribes without layoutVersion
      this.showId = f.showId;
      this.layoutVersion = f.layoutVersion;
      this.categories = f.categories;
      this.buildLayout(f, f.rows);
    }
    this.categories = f.categories;
    this.version = f.version;
    this.status = f.status;
    for (let i = 0; i < this.labels.length; i++) this.setStatus(this.labels[i], STATUS_OF[f.seats[i]] ?? 'blocked');
    return true;
  }

  /**
   * Applies a delta frame that follows our version (the caller checked).
   * @param {DeltaFrame} f
   */
  applyDelta(f) {
    for (const [label, status] of f.changes) this.setStatus(label, status);
    this.version = f.version;
    if (f.showStatus) this.status = f.showStatus;
  }

  /**
   * @param {string} label
   * @param {SeatStatus} status
   */
  setStatus(label, status) {
    const el = this.byLabel.get(label);
    if (!el) return;
    this.statusOf.set(label, status);
    if (el.dataset.status !== status) el.dataset.status = status;
  }

  /**
   * @param {SnapshotFrame} f
   * @param {NonNullable<SnapshotFrame['rows']>} rows the frame's layout rows (present: the caller checked)
   */
  buildLayout(f, rows) {
    const n = f.seats.length;
    this.labels = f.labels ?? new Array(n);
    this.categoryOf = f.categoryOf ?? new Array(n);
    for (const r of rows) {
      for (let k = 0; k < r.count; k++) {
        if (!f.labels) this.labels[r.start + k] = `${r.prefix}${r.first + k}`;
        if (!f.categoryOf) this.categoryOf[r.start + k] = r.category;
      }
    }
    this.byLabel = new Map();
    this.statusOf = new Map();
    const frag = document.createDocumentFragment();
    const sections = new Set(rows.map((r) => r.section));
    /** @type {string | null} */
    let lastSection = null;
    for (const r of rows) {
      if (sections.size > 1 && r.section !== lastSection) {
        const title = document.createElement('div');
        title.className = 'section-title';
        title.textContent = r.section;
        frag.append(title);
        lastSection = r.section;
      }
      const row = document.createElement('div');
      row.className = 'row';
      const rowLabel = document.createElement('span');
      rowLabel.className = 'row-label';
      rowLabel.textContent = r.label;
      row.append(rowLabel);
      for (let k = 0; k < r.count; k++) {
        const i = r.start + k;
        const seat = document.createElement('span');
        const label = this.labels[i];
        const cat = this.categories[this.categoryOf[i]];
        seat.className = `seat cat-${this.categoryOf[i] % 8}`;
        seat.dataset.seat = label;
        seat.dataset.status = 'available';
        seat.title = cat ? `${label} · ${cat.name ?? cat.id} · ${formatPrice(cat.price, cat.currency)}` : label;
        seat.textContent = String(r.first + k);
        row.append(seat);
        this.byLabel.set(label, seat);
      }
      frag.append(row);
    }
    this.el.replaceChildren(frag);
  }

  /**
   * Sets `data-<attr>` on exactly the seats in `entries` ([label, value] pairs).
   * @param {string} attr
   * @param {Array<[string, string]>} entries
   */
  mark(attr, entries) {
    for (const el of this.el.querySelectorAll(`[data-${attr}]`)) if (el instanceof HTMLElement) delete el.dataset[attr];
    for (const [label, value] of entries) {
      const el = this.byLabel.get(label);
      if (el) el.dataset[attr] = value;
    }
  }
}

/**
 * @param {number} minor amount in minor units
 * @param {string} currency ISO 4217 code
 */
export function formatPrice(minor, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}
