import { Redis } from 'ioredis';
import pg from 'pg';
import { createDatabase, dropDatabase } from '../lib/pg-admin.ts';
import {
  badInput,
  baselineEnv,
  holdGone,
  newId,
  newToken,
  notFound,
  planShow,
  serveBaseline,
  totalOf,
  unavailable,
  wrongToken,
  type BaselineStore,
  type BookingResult,
  type CheckResult,
  type HoldResult,
  type SeatPlan,
  type ShowInput,
  BOOKINGS_DDL,
  readBooking,
} from './kit.ts';

/**
 * The design of many booking tutorials: an atomic Lua script checks the seats and marks
 * them held with a TTL (so expiry needs no sweep), the confirm re-checks the hold in Lua
 * and turns the seats booked, then the booking row is written to Postgres. Redis keys
 * live under a prefix unique to the run and are deleted on exit.
 *
 * Keys, per show S (hash-tagged so a show's keys share a slot):
 *   {S}:meta           hash: status, rows (JSON [[start, count], ...])
 *   {S}:seat:<index>   "H:<holdId>" with PX ttl, or "B:<bookingId>" without
 *   {S}:hold:<holdId>  hash: token, seats ("3,4"), with PX ttl
 *   {S}:booked         one byte per seat, '1' once booked (lets best-available skip them)
 *
 * Env: PORT, ADMIN_TOKEN, REDIS_URL, BENCH_KEY_PREFIX, BENCH_DB_NAME, BENCH_PG_URL, PG_POOL_SIZE.
 */

const POOL_SIZE = Number(process.env.PG_POOL_SIZE ?? 16);

const HOLD_SEATS_LUA = `
if redis.call('HGET', KEYS[1], 'status') ~= 'scheduled' then return {-1} end
local taken = {}
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then taken[#taken + 1] = i - 3 end
end
if #taken > 0 then return {0, taken} end
for i = 3, #KEYS do redis.call('SET', KEYS[i], 'H:' .. ARGV[1], 'PX', ARGV[3]) end
redis.call('HSET', KEYS[2], 'token', ARGV[2], 'seats', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1}
`;

const HOLD_BEST_LUA = `
if redis.call('HGET', KEYS[1], 'status') ~= 'scheduled' then return {-1} end
local rows = cjson.decode(redis.call('HGET', KEYS[1], 'rows'))
local booked = redis.call('GET', KEYS[3])
local need = tonumber(ARGV[4])
local prefix = ARGV[5]
for _, r in ipairs(rows) do
  local run = 0
  for i = r[1], r[1] + r[2] - 1 do
    if string.byte(booked, i + 1) == 48 and redis.call('EXISTS', prefix .. i) == 0 then
      run = run + 1
      if run == need then
        local seats = {}
        for j = i - need + 1, i do
          redis.call('SET', prefix .. j, 'H:' .. ARGV[1], 'PX', ARGV[3])
          seats[#seats + 1] = j
        end
        redis.call('HSET', KEYS[2], 'token', ARGV[2], 'seats', table.concat(seats, ','))
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        return {1, seats}
      end
    else
      run = 0
    end
  end
end
return {0}
`;

const CONFIRM_LUA = `
local h = redis.call('HMGET', KEYS[1], 'token', 'seats')
if not h[1] then return {-1} end
if h[1] ~= ARGV[2] then return {-2} end
local seats = {}
for s in string.gmatch(h[2], '[^,]+') do seats[#seats + 1] = s end
for _, s in ipairs(seats) do
  if redis.call('GET', ARGV[4] .. s) ~= 'H:' .. ARGV[1] then return {-3} end
end
for _, s in ipairs(seats) do
  redis.call('SET', ARGV[4] .. s, 'B:' .. ARGV[3])
  redis.call('SETRANGE', KEYS[2], tonumber(s), '1')
end
redis.call('DEL', KEYS[1])
return {1, h[2]}
`;

/** Undoes a confirm whose Postgres write failed: the seats go back to sale. */
const UNCONFIRM_LUA = `
for s in string.gmatch(ARGV[2], '[^,]+') do
  if redis.call('GET', ARGV[3] .. s) == 'B:' .. ARGV[1] then
    redis.call('DEL', ARGV[3] .. s)
    redis.call('SETRANGE', KEYS[1], tonumber(s), '0')
  end
end
return 1
`;

const RELEASE_LUA = `
local h = redis.call('HMGET', KEYS[1], 'token', 'seats')
if not h[1] then return {-1} end
if h[1] ~= ARGV[2] then return {-2} end
for s in string.gmatch(h[2], '[^,]+') do
  if redis.call('GET', ARGV[3] .. s) == 'H:' .. ARGV[1] then redis.call('DEL', ARGV[3] .. s) end
end
redis.call('DEL', KEYS[1])
return {1}
`;

type Reply = [number, (number | string)[]?] | [number, string?];

interface SeatCommands {
  holdSeats(...args: (string | number)[]): Promise<Reply>;
  holdBest(...args: (string | number)[]): Promise<Reply>;
  confirmHold(...args: (string | number)[]): Promise<Reply>;
  unconfirm(...args: (string | number)[]): Promise<number>;
  releaseHold(...args: (string | number)[]): Promise<Reply>;
}

const SCHEMA = `
CREATE TABLE shows (id text PRIMARY KEY, status text NOT NULL DEFAULT 'scheduled', def jsonb NOT NULL);
${BOOKINGS_DDL}`;

class RedisLuaStore implements BaselineStore {
  readonly name = 'redis-lua';
  /** Seat plans by show: the layout is static, so each process keeps it (loaded from Postgres on a miss). */
  private plans = new Map<string, SeatPlan>();
  private readonly cmd: SeatCommands;

  constructor(
    private readonly redis: Redis,
    private readonly pool: pg.Pool,
    private readonly prefix: string,
    private readonly dbName: string,
  ) {
    redis.defineCommand('holdSeats', { lua: HOLD_SEATS_LUA });
    redis.defineCommand('holdBest', { numberOfKeys: 3, lua: HOLD_BEST_LUA });
    redis.defineCommand('confirmHold', { numberOfKeys: 2, lua: CONFIRM_LUA });
    redis.defineCommand('unconfirm', { numberOfKeys: 1, lua: UNCONFIRM_LUA });
    redis.defineCommand('releaseHold', { numberOfKeys: 1, lua: RELEASE_LUA });
    this.cmd = redis as unknown as SeatCommands;
  }

  private key(showId: string, suffix: string): string {
    return `${this.prefix}{${showId}}:${suffix}`;
  }

  private async plan(showId: string): Promise<SeatPlan> {
    const cached = this.plans.get(showId);
    if (cached) return cached;
    const r = await this.pool.query<{ def: ShowInput }>('SELECT def FROM shows WHERE id = $1', [showId]);
    if (r.rowCount === 0) throw notFound('SHOW');
    const plan = planShow(r.rows[0].def);
    this.plans.set(showId, plan);
    return plan;
  }

  async createShow(input: ShowInput): Promise<void> {
    const plan = planShow(input);
    await this.pool.query('INSERT INTO shows (id, def) VALUES ($1, $2)', [input.id, JSON.stringify(input)]);
    await this.redis
      .multi()
      .hset(this.key(input.id, 'meta'), 'status', 'scheduled', 'rows', JSON.stringify(plan.rows))
      .set(this.key(input.id, 'booked'), '0'.repeat(plan.labels.length))
      .exec();
    this.plans.set(input.id, plan);
  }

  async seatStatuses(showId: string) {
    const plan = await this.plan(showId);
    const status = (await this.redis.hget(this.key(showId, 'meta'), 'status')) ?? 'cancelled';
    const out: string[] = [];
    const CHUNK = 2000;
    for (let i = 0; i < plan.labels.length; i += CHUNK) {
      const keys = [];
      for (let j = i; j < Math.min(plan.labels.length, i + CHUNK); j++) keys.push(this.key(showId, `seat:${j}`));
      for (const v of await this.redis.mget(keys)) out.push(v === null ? 'a' : v.startsWith('B:') ? 'b' : 'h');
    }
    return { labels: plan.labels, statuses: out.join(''), status };
  }

  async hold(showId: string, req: { seats?: string[]; count?: number }, ttlMs: number): Promise<HoldResult> {
    const plan = await this.plan(showId);
    const holdId = newId('h');
    const holdToken = newToken();
    const holdKey = this.key(showId, `hold:${holdId}`);
    let seats: number[];
    if (req.seats) {
      seats = req.seats.map((l) => {
        const i = plan.indexByLabel.get(l);
        if (i === undefined) throw badInput(`unknown seat ${l}`);
        return i;
      });
      const keys = [this.key(showId, 'meta'), holdKey, ...seats.map((i) => this.key(showId, `seat:${i}`))];
      const r = await this.cmd.holdSeats(keys.length, ...keys, holdId, holdToken, ttlMs, seats.join(','));
      if (r[0] === -1) throw unavailable([]);
      if (r[0] === 0) throw unavailable((r[1] as number[]).map((k) => req.seats?.[k] ?? ''));
    } else {
      const r = await this.cmd.holdBest(
        this.key(showId, 'meta'),
        holdKey,
        this.key(showId, 'booked'),
        holdId,
        holdToken,
        ttlMs,
        req.count ?? 1,
        this.key(showId, 'seat:'),
      );
      if (r[0] !== 1) throw unavailable([]);
      seats = (r[1] as number[]).map(Number);
    }
    return {
      holdId,
      holdToken,
      seats: seats.map((i) => plan.labels[i]),
      expiresAt: new Date(Date.now() + ttlMs).toISOString(),
      total: totalOf(plan, seats),
      currency: plan.currency,
    };
  }

  async confirm(showId: string, holdId: string, token: string): Promise<BookingResult> {
    const plan = await this.plan(showId);
    const bookingId = newId('b');
    const r = await this.cmd.confirmHold(
      this.key(showId, `hold:${holdId}`),
      this.key(showId, 'booked'),
      holdId,
      token,
      bookingId,
      this.key(showId, 'seat:'),
    );
    if (r[0] === -1) throw notFound('HOLD');
    if (r[0] === -2) throw wrongToken();
    if (r[0] !== 1) throw holdGone();
    const idx = String(r[1]).split(',').map(Number);
    const seats = idx.map((i) => plan.labels[i]);
    const total = totalOf(plan, idx);
    try {
      await this.pool.query('INSERT INTO bookings (id, show_id, hold_id, seats, total, currency) VALUES ($1, $2, $3, $4, $5, $6)', [
        bookingId,
        showId,
        holdId,
        seats,
        total,
        plan.currency,
      ]);
    } catch (err) {
      await this.cmd.unconfirm(this.key(showId, 'booked'), bookingId, String(r[1]), this.key(showId, 'seat:'));
      throw err;
    }
    return { bookingId, holdId, showId, seats, total, currency: plan.currency, status: 'confirmed' };
  }

  async release(showId: string, holdId: string, token: string): Promise<void> {
    const r = await this.cmd.releaseHold(this.key(showId, `hold:${holdId}`), holdId, token, this.key(showId, 'seat:'));
    if (r[0] === -1) throw notFound('HOLD');
    if (r[0] === -2) throw wrongToken();
  }

  getBooking(showId: string, bookingId: string): Promise<BookingResult> {
    return readBooking(this.pool, showId, bookingId);
  }

  async cancelShow(showId: string): Promise<{ cancelledBookings: number }> {
    await this.plan(showId);
    await this.pool.query(`UPDATE shows SET status = 'cancelled' WHERE id = $1`, [showId]);
    await this.redis.hset(this.key(showId, 'meta'), 'status', 'cancelled');
    await this.deleteMatching(`${this.prefix}{${showId}}:*`, new Set([this.key(showId, 'meta')]));
    const b = await this.pool.query(`UPDATE bookings SET status = 'cancelled' WHERE show_id = $1 AND status = 'confirmed'`, [showId]);
    return { cancelledBookings: b.rowCount ?? 0 };
  }

  private async deleteMatching(pattern: string, keep = new Set<string>()): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
      cursor = next;
      const doomed = keys.filter((k) => !keep.has(k));
      if (doomed.length > 0) await this.redis.unlink(...doomed);
    } while (cursor !== '0');
  }

  async check(showId: string): Promise<CheckResult> {
    const plan = await this.plan(showId);
    const { statuses } = await this.seatStatuses(showId);
    const owners = new Map<number, string>();
    const CHUNK = 2000;
    for (let i = 0; i < plan.labels.length; i += CHUNK) {
      const keys = [];
      for (let j = i; j < Math.min(plan.labels.length, i + CHUNK); j++) keys.push(this.key(showId, `seat:${j}`));
      (await this.redis.mget(keys)).forEach((v, k) => {
        if (v?.startsWith('B:')) owners.set(i + k, v.slice(2));
      });
    }
    const r = await this.pool.query<{ id: string; seats: string[] }>(
      `SELECT id, seats FROM bookings WHERE show_id = $1 AND status = 'confirmed'`,
      [showId],
    );
    const seen = new Map<string, number>();
    let notBooked = 0;
    for (const b of r.rows) {
      for (const l of b.seats) {
        seen.set(l, (seen.get(l) ?? 0) + 1);
        if (owners.get(plan.indexByLabel.get(l) ?? -1) !== b.id) notBooked++;
      }
    }
    const byId = new Map(r.rows.map((b) => [b.id, new Set(b.seats)]));
    let orphans = 0;
    for (const [i, bookingId] of owners) if (!byId.get(bookingId)?.has(plan.labels[i])) orphans++;
    return {
      bookings: r.rowCount ?? 0,
      bookedSeats: [...statuses].filter((s) => s === 'b').length,
      seatsInSeveralBookings: [...seen.values()].filter((n) => n > 1).length,
      bookedWithoutBooking: orphans,
      bookingSeatsNotBooked: notBooked,
    };
  }

  async close(): Promise<void> {
    await this.deleteMatching(`${this.prefix}*`);
    this.redis.disconnect();
    await this.pool.end();
    await dropDatabase(this.dbName);
  }
}

async function main(): Promise<void> {
  const stamp = `${process.pid}_${Date.now().toString(36)}`;
  const dbName = process.env.BENCH_DB_NAME ?? `bench_redis_${stamp}`;
  const prefix = process.env.BENCH_KEY_PREFIX ?? `bench:${stamp}:`;
  const url = await createDatabase(dbName);
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  await pool.query(SCHEMA);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  await serveBaseline(new RedisLuaStore(redis, pool, prefix, dbName), baselineEnv());
}

main().catch((err) => {
  process.stderr.write(`redis-lua: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
