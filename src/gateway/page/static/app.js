// The seat-map page: pick a show, watch its seats live, select available seats, hold them
// over the WebSocket, watch the hold's countdown, confirm (at the hold's locked total) or
// release; after booking, cancel it, seeing the refund the show's policy gives first.
import { refundPreview, venueTime } from './bookings.js';
import { LiveMap } from './live.js';
import { SeatGrid, formatPrice } from './seat-grid.js';

/** @typedef {import('../../../client/index.ts').ShowView} ShowView */
/** @typedef {import('../../../client/index.ts').ShowSummary} ShowSummary */
/** @typedef {import('../../../client/index.ts').BookingView} BookingView */
/** What the page explains to the customer: an error frame, an HTTP error body, or one made here. @typedef {{ code?: string, message?: string, seats?: string[] }} Problem */

/**
 * The page's own elements (index.html has every id this script asks for).
 * @param {string} id
 */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} id */
const button = (id) => /** @type {HTMLButtonElement} */ ($(id));
const grid = new SeatGrid($('seat-map'));
/** @type {Set<string>} */
const selected = new Set();
/** @type {{ showId: string, holdId: string, holdToken: string, seats: string[], expiresAt: number, total: number, currency: string } | null} */
let hold = null;
/** @type {Set<string>} */
const booked = new Set();
/** @type {ReturnType<typeof setInterval> | undefined} */
let countdownTimer;
/** Show summaries from the catalog, by id (for the start time). @type {Map<string, ShowSummary>} */
const summaries = new Map();
/** @type {{ showId: string, bookingId: string, bookingToken: string, seats: string[], total: number, currency: string } | null} */
let myBooking = null;

const live = new LiveMap({
  version: () => grid.version,
  layoutVersion: () => grid.layoutVersion,
  onState: (s) => {
    $('connection').dataset.state = s;
    $('connection').textContent = s;
  },
  onSnapshot: (f) => {
    if (!grid.applySnapshot(f)) {
      grid.layoutVersion = null;
      live.subscribe(f.showId, false);
      return;
    }
    renderLegend();
    refresh();
  },
  onChanges: (f) => {
    grid.applyDelta(f);
    // Our held seats back on sale: the hold ended on the server (expired) before our timer.
    if (hold?.seats.every((l) => grid.statusOf.get(l) === 'available')) {
      hold = null;
      say(explain({ code: 'HOLD_EXPIRED' }), 'error', 'HOLD_EXPIRED');
    }
    refresh();
  },
  onError: (f) => say(explain(f), 'error', f.code),
});

/**
 * Shows a message; `code` (the error code) goes in data-code for tests and styling.
 * @param {string} text
 * @param {'info' | 'ok' | 'error'} [kind]
 * @param {string} [code]
 */
function say(text, kind = 'info', code = '') {
  $('message').textContent = text;
  $('message').dataset.kind = kind;
  $('message').dataset.code = code;
}

/**
 * Anything a failed step threw, as the problem the page explains (a fetch failure has no code).
 * @param {unknown} err
 * @returns {Problem}
 */
function problem(err) {
  return err !== null && typeof err === 'object' ? /** @type {Problem} */ (err) : { message: String(err) };
}

/** @param {Problem} err */
function explain(err) {
  switch (err.code) {
    case 'SEAT_UNAVAILABLE':
      return `Sorry, ${err.seats?.length ? err.seats.join(', ') : 'those seats'} ${err.seats?.length === 1 ? 'was' : 'were'} just taken. Pick other seats.`;
    case 'HOLD_EXPIRED':
      return 'Your hold expired and the seats went back on sale. Select seats again.';
    case 'HOLD_LIMIT_EXCEEDED':
      return `Too many seats: ${err.message}`;
    case 'SHOW_CANCELLED':
      return 'This show was cancelled.';
    case 'CANCELLATION_CLOSED':
      return 'This booking can no longer be cancelled: the cancellation policy has closed.';
    case 'PRICE_CHANGED':
      return `The price changed: ${err.message}. Nothing was booked.`;
    default:
      return `${err.code ?? 'ERROR'}: ${err.message ?? 'something went wrong'}`;
  }
}

/** Re-derives selection, marks and buttons after any change to the map or the hold. */
function refresh() {
  for (const label of [...selected]) if (grid.statusOf.get(label) !== 'available') selected.delete(label);
  /** @type {Array<[string, string]>} */
  const mine = [];
  for (const label of booked) mine.push([label, 'booked']);
  if (hold) for (const label of hold.seats) mine.push([label, '1']);
  grid.mark('mine', mine);
  grid.mark(
    'selected',
    [...selected].map((l) => [l, '1']),
  );
  const cancelled = grid.status === 'cancelled';
  button('hold-btn').disabled = selected.size === 0 || cancelled;
  button('confirm-btn').disabled = !hold || cancelled;
  button('release-btn').disabled = !hold;
  $('selected-summary').textContent = hold
    ? `Holding ${hold.seats.join(', ')} · ${formatPrice(hold.total, hold.currency)} (price locked until the hold ends)`
    : selected.size
      ? `Selected ${[...selected].join(', ')}`
      : cancelled
        ? 'This show was cancelled.'
        : 'Click available seats to select them.';
  $('show-info').textContent = grid.showId ? `Version ${grid.version}${cancelled ? ' · cancelled' : ''}` : '';
  const summary = grid.showId === null ? undefined : summaries.get(grid.showId);
  $('show-time').textContent = summary ? `Starts ${venueTime(summary.startsAt)}` : '';
  $('selected-summary').dataset.total = hold ? String(hold.total) : '';
  $('my-booking').hidden = !myBooking;
  if (myBooking)
    $('booking-summary').textContent =
      `Your booking ${myBooking.bookingId}: ${myBooking.seats.join(', ')} · ${formatPrice(myBooking.total, myBooking.currency)}`;
}

function renderLegend() {
  const items = [
    ['available', 'Available'],
    ['held', 'Held by someone'],
    ['booked', 'Booked'],
    ['blocked', 'Not for sale'],
  ];
  const parts = items.map(([status, text]) => `<div class="item"><span class="seat" data-status="${status}"></span>${text}</div>`);
  parts.push('<div class="item"><span class="seat" data-mine="1" data-status="held"></span>Your hold</div>');
  parts.push('<div class="item"><span class="seat" data-selected="1"></span>Selected</div>');
  parts.push('<h2>Categories (outline)</h2>');
  $('legend').innerHTML = parts.join('');
  grid.categories.forEach((c, i) => {
    const row = document.createElement('div');
    row.className = 'item';
    const swatch = document.createElement('span');
    swatch.className = `seat cat-${i % 8}`;
    row.append(swatch, `${c.name ?? c.id} · ${formatPrice(c.price, c.currency)}`);
    $('legend').append(row);
  });
}

function startCountdown() {
  clearInterval(countdownTimer);
  const tick = () => {
    if (!hold) {
      clearInterval(countdownTimer);
      $('countdown').hidden = true;
      return;
    }
    const left = Math.max(0, Math.round((hold.expiresAt - Date.now()) / 1000));
    $('countdown').hidden = false;
    $('countdown').textContent = `Hold expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    $('countdown').dataset.urgent = left < 60 ? '1' : '0';
    if (left === 0) {
      hold = null;
      say(explain({ code: 'HOLD_EXPIRED' }), 'error', 'HOLD_EXPIRED');
      refresh();
    }
  };
  tick();
  countdownTimer = setInterval(tick, 250);
}

$('seat-map').addEventListener('click', (ev) => {
  const el = ev.target instanceof Element ? ev.target.closest('[data-seat]') : null;
  if (!(el instanceof HTMLElement) || el.dataset.status !== 'available' || hold) return;
  const label = el.dataset.seat ?? '';
  if (selected.has(label)) selected.delete(label);
  else selected.add(label);
  refresh();
});

$('hold-btn').addEventListener('click', async () => {
  const seats = [...selected];
  const showId = grid.showId;
  if (!showId) return;
  button('hold-btn').disabled = true;
  try {
    const r = await live.request({ type: 'hold', showId, seats });
    hold = {
      showId,
      holdId: r.holdId,
      holdToken: r.holdToken,
      seats: r.seats,
      expiresAt: Date.parse(r.expiresAt),
      total: r.price.total,
      currency: r.price.currency,
    };
    selected.clear();
    say(`Held ${r.seats.join(', ')}. Confirm before the timer runs out.`, 'ok');
    startCountdown();
  } catch (err) {
    say(explain(problem(err)), 'error', problem(err).code);
  }
  refresh();
});

$('confirm-btn').addEventListener('click', async () => {
  if (!hold) return;
  const h = hold;
  button('confirm-btn').disabled = true;
  try {
    // The total the customer was shown: should it ever differ, nothing is booked (PRICE_CHANGED).
    const r = await live.request({ type: 'confirm', showId: h.showId, holdId: h.holdId, holdToken: h.holdToken, expectedTotal: h.total });
    for (const s of r.seats) booked.add(s);
    hold = null;
    myBooking = {
      showId: h.showId,
      bookingId: r.bookingId,
      bookingToken: r.bookingToken,
      seats: r.seats,
      total: r.total,
      currency: r.currency,
    };
    $('cancel-ask').hidden = true;
    say(`Booked ${r.seats.join(', ')} · ${formatPrice(r.total, r.currency)} · booking ${r.bookingId}`, 'ok');
  } catch (err) {
    const p = problem(err);
    if (p.code === 'HOLD_EXPIRED' || p.code === 'HOLD_NOT_FOUND') hold = null;
    say(explain(p), 'error', p.code);
  }
  refresh();
});

/** The refund the show's policy gives now, shown before asking; the show's full view carries the policy. */
$('cancel-booking-btn').addEventListener('click', async () => {
  if (!myBooking) return;
  const b = myBooking;
  try {
    const res = await fetch(`/v1/shows/${encodeURIComponent(b.showId)}`);
    const show = /** @type {ShowView} */ (await res.json());
    if (!res.ok) throw /** @type {{ error?: Problem }} */ (show).error ?? {};
    const preview = refundPreview(show.cancellationPolicy, show.startsAt, b.total);
    if (!preview) {
      say('This booking can no longer be cancelled: the cancellation policy has closed.', 'error', 'CANCELLATION_CLOSED');
      return;
    }
    $('cancel-preview').textContent =
      `Cancelling now refunds ${preview.refundPercent} %: ${formatPrice(preview.refundDue, b.currency)} of ${formatPrice(b.total, b.currency)}. Cancel?`;
    $('cancel-preview').dataset.refund = String(preview.refundDue);
    $('cancel-ask').hidden = false;
  } catch (err) {
    say(explain(problem(err)), 'error', problem(err).code);
  }
});

$('cancel-no-btn').addEventListener('click', () => {
  $('cancel-ask').hidden = true;
});

$('cancel-yes-btn').addEventListener('click', async () => {
  if (!myBooking) return;
  const b = myBooking;
  $('cancel-ask').hidden = true;
  try {
    const res = await fetch(`/v1/shows/${encodeURIComponent(b.showId)}/bookings/${encodeURIComponent(b.bookingId)}/cancel`, {
      method: 'POST',
      headers: { 'booking-token': b.bookingToken },
    });
    const body = /** @type {BookingView} */ (await res.json());
    if (!res.ok) throw /** @type {{ error?: Problem }} */ (body).error ?? {};
    for (const s of b.seats) booked.delete(s);
    myBooking = null;
    say(`Cancelled booking ${b.bookingId} · refund ${formatPrice(body.refundDue ?? 0, b.currency)}`, 'ok', 'CANCELLED');
  } catch (err) {
    say(explain(problem(err)), 'error', problem(err).code);
  }
  refresh();
});

$('release-btn').addEventListener('click', async () => {
  if (!hold) return;
  const h = hold;
  try {
    await live.request({ type: 'release', showId: h.showId, holdId: h.holdId, holdToken: h.holdToken });
    say(`Released ${h.seats.join(', ')}.`, 'info');
  } catch (err) {
    say(explain(problem(err)), 'error', problem(err).code);
  }
  hold = null;
  refresh();
});

/** @param {string} showId */
function pick(showId) {
  if (!showId || showId === grid.showId) return;
  grid.clear();
  selected.clear();
  booked.clear();
  hold = null;
  myBooking = null;
  const url = new URL(location.href);
  url.searchParams.set('show', showId);
  history.replaceState(null, '', url);
  live.subscribe(showId, false);
  refresh();
}

$('show-picker').addEventListener('change', (ev) => {
  if (ev.target instanceof HTMLSelectElement) pick(ev.target.value);
});

async function loadShows() {
  const wanted = new URLSearchParams(location.search).get('show');
  try {
    const res = await fetch('/v1/shows');
    const { shows } = /** @type {{ shows: ShowSummary[] }} */ (await res.json());
    const picker = /** @type {HTMLSelectElement} */ ($('show-picker'));
    picker.replaceChildren(new Option(shows.length ? 'Pick a show…' : 'No shows', ''));
    for (const s of shows) {
      summaries.set(s.id, s);
      picker.append(new Option(`${s.title} · ${s.venue} · ${venueTime(s.startsAt)}`, s.id));
    }
    refresh();
    const first = wanted ?? (shows.length === 1 ? shows[0].id : '');
    if (first) {
      if (![...picker.options].some((o) => o.value === first)) picker.append(new Option(first, first));
      picker.value = first;
      pick(first);
    }
  } catch {
    say('Could not load the list of shows.', 'error');
    if (wanted) pick(wanted);
  }
}

loadShows();
