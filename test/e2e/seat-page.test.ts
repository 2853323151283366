import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { showDef } from '../../testkit/shows.ts';
import { startTestServer, type TestServer } from '../support/start-server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function skipReason(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${CHROMIUM} is missing (REQUIRE_SERVICES=1)`);
  return `${CHROMIUM} is not installed`;
}
const skip = skipReason();

const MINE_POLICY = [
  { hoursBeforeStart: 87_600, refundPercent: 100 },
  { hoursBeforeStart: 24, refundPercent: 50 },
];

let srv: TestServer;
let browser: Browser;
const problems: string[] = [];

/** While `dropDeltas` is set, delta frames from the server never reach the page (a lossy network). */
interface Link {
  dropDeltas: boolean;
}

/** A page on the show, with every script error and CSP violation recorded. */
async function openPage(showId: string, link?: Link, context: { timezoneId?: string; locale?: string } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 520 }, ...context });
  if (link) {
    await page.routeWebSocket(/\/v1\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        if (!(link.dropDeltas && String(m).startsWith('{"type":"delta"'))) ws.send(m);
      });
    });
  }
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${srv.url}/?show=${showId}`);
  await page.locator('#connection[data-state="live"]').waitFor();
  await page.locator('[data-seat="A-1"]').waitFor();
  return page;
}

const seat = (page: Page, label: string, attrs: string) => page.locator(`[data-seat="${label}"]${attrs}`);

before(async () => {
  if (skip) return;
  srv = await startTestServer();
  await srv.service.createShow(showDef('e2e', 4, 12));
  // Far ahead (stable for years): the 24-hour rule, half back, applies.
  await srv.service.createShow(showDef('e2e-mine', 2, 6, { startsAt: '2030-12-01T19:30:00+05:30', cancellationPolicy: MINE_POLICY }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('two pages on one show: a hold and a booking on page A show up live on page B', { skip, timeout: 60_000 }, async () => {
  const a = await openPage('e2e');
  const link: Link = { dropDeltas: false };
  const b = await openPage('e2e', link);
  assert.equal(await a.locator('[data-seat]').count(), 48);
  assert.equal(await b.locator('[data-seat][data-status="available"]').count(), 48);

  await seat(a, 'B-4', '').click();
  await seat(a, 'B-4', '[data-selected="1"]').waitFor();
  await a.locator('#hold-btn').click();
  // Page B must show the hold within a second of the click.
  await seat(b, 'B-4', '[data-status="held"]').waitFor({ timeout: 1_000 });
  await seat(a, 'B-4', '[data-status="held"][data-mine="1"]').waitFor();
  assert.equal(await seat(b, 'B-4', '[data-mine]').count(), 0, 'only the holder marks the seat as its own');
  await a.locator('#countdown:not([hidden])').waitFor();

  if (process.env.SCREENSHOT_DIR) await a.screenshot({ path: join(process.env.SCREENSHOT_DIR, 'seat-page.png'), fullPage: true });

  await a.locator('#confirm-btn').click();
  await seat(b, 'B-4', '[data-status="booked"]').waitFor({ timeout: 1_000 });
  await seat(a, 'B-4', '[data-status="booked"][data-mine="booked"]').waitFor();
  assert.equal((await srv.service.getSeatMap('e2e')).seats[15], 'b');

  // A conflict: B misses the delta that C-1 was taken, selects it and tries to hold it.
  link.dropDeltas = true;
  await srv.service.hold('e2e', { seats: ['C-1'] });
  await seat(b, 'C-1', '').click();
  await seat(b, 'C-2', '').click();
  await b.locator('#hold-btn').click();
  await b.locator('#message[data-code="SEAT_UNAVAILABLE"]').waitFor();
  assert.match(await b.locator('#message').innerText(), /C-1/, 'the message names the taken seat');
  assert.equal(await seat(b, 'C-2', '[data-status="available"]').count(), 1, 'a failed hold takes nothing');

  // Deltas flow again: B sees a gap at the next one, resubscribes with fromVersion and catches up.
  link.dropDeltas = false;
  await seat(a, 'D-12', '').click();
  await a.locator('#hold-btn').click();
  await seat(b, 'D-12', '[data-status="held"]').waitFor({ timeout: 1_000 });
  await seat(b, 'C-1', '[data-status="held"]').waitFor();

  // Release returns A's hold to sale on B.
  await a.locator('#release-btn').click();
  await seat(b, 'D-12', '[data-status="available"]').waitFor({ timeout: 1_000 });

  assert.deepEqual(problems, []);
});

test("the venue's local time, the locked total, and cancelling my booking after seeing the refund", { skip, timeout: 60_000 }, async () => {
  // A browser in UTC: the 19:30 +05:30 show must still read 7:30 PM (not 2:00 PM).
  const page = await openPage('e2e-mine', undefined, { timezoneId: 'UTC', locale: 'en-US' });
  await page.locator('#show-time:has-text("Starts")').waitFor();
  const time = await page.locator('#show-time').innerText();
  assert.match(time, /7:30\s?PM/, time);
  assert.match(time, /UTC\+05:30/, time);
  assert.doesNotMatch(time, /2:00/);
  assert.match(await page.locator('#show-picker option[value="e2e-mine"]').innerText(), /7:30\s?PM/);

  await seat(page, 'A-1', '').click();
  await seat(page, 'A-2', '').click();
  await page.locator('#hold-btn').click();
  await page.locator('#selected-summary[data-total="100000"]').waitFor();
  assert.match(await page.locator('#selected-summary').innerText(), /locked/);
  assert.equal(await page.locator('#my-booking').isHidden(), true, 'no booking yet');

  await page.locator('#confirm-btn').click();
  await page.locator('#my-booking:not([hidden])').waitFor();
  await page.locator('#cancel-booking-btn').click();
  await page.locator('#cancel-ask:not([hidden])').waitFor();
  assert.equal(await page.locator('#cancel-preview').getAttribute('data-refund'), '50000');
  assert.match(await page.locator('#cancel-preview').innerText(), /50 %/);
  // Nothing is cancelled before the customer says yes; "keep" keeps it.
  await page.locator('#cancel-no-btn').click();
  assert.equal(await page.locator('#cancel-ask').isHidden(), true);
  assert.equal(await seat(page, 'A-1', '[data-status="booked"]').count(), 1);

  await page.locator('#cancel-booking-btn').click();
  await page.locator('#cancel-yes-btn').click();
  await page.locator('#message[data-code="CANCELLED"]').waitFor();
  await seat(page, 'A-1', '[data-status="available"]').waitFor({ timeout: 1_000 });
  assert.equal(await page.locator('#my-booking').isHidden(), true);
  const { bookings } = await srv.service.listBookings('e2e-mine', {});
  assert.equal(bookings.length, 1);
  assert.equal(bookings[0].status, 'cancelled');
  assert.equal(bookings[0].refundDue, 50_000);
  assert.deepEqual(problems, []);
});
