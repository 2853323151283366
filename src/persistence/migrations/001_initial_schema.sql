-- Show catalog: one row per show, upserted after commits that change it.
CREATE TABLE shows (
  id          text PRIMARY KEY,
  title       text        NOT NULL,
  city        text        NOT NULL,
  venue       text        NOT NULL,
  starts_at   timestamptz NOT NULL,
  -- The venue's own calendar date of starts_at (the date a visitor searches by).
  local_date  date        NOT NULL,
  status      text        NOT NULL,
  summary     jsonb       NOT NULL,
  version     bigint      NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shows_city_date_idx ON shows (lower(city), local_date, starts_at);
CREATE INDEX shows_date_idx ON shows (local_date, starts_at);
CREATE INDEX shows_starts_at_idx ON shows (starts_at, id);

-- Newest snapshot per show; a write never moves a show backwards (log_seq only grows).
CREATE TABLE show_snapshots (
  show_id     text PRIMARY KEY,
  version     bigint      NOT NULL,
  log_seq     bigint      NOT NULL,
  state       jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per booking, upserted (idempotently, by booking_id) before a confirm is answered.
CREATE TABLE bookings (
  booking_id    text PRIMARY KEY,
  show_id       text        NOT NULL,
  hold_id       text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
  seats         text[]      NOT NULL,
  total         bigint      NOT NULL,
  currency      text        NOT NULL,
  lines         jsonb       NOT NULL,
  payment_ref   text,
  customer_id   text,
  confirmed_at  timestamptz NOT NULL,
  cancelled_at  timestamptz,
  cancel_reason text,
  -- Revision of the row: 1 when written, +1 when it turns cancelled.
  version       bigint      NOT NULL DEFAULT 1
);
CREATE INDEX bookings_show_idx ON bookings (show_id);
CREATE INDEX bookings_customer_idx ON bookings (customer_id) WHERE customer_id IS NOT NULL;
