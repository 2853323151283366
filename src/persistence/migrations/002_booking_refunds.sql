-- What a cancelled booking owes back, as the show decided it (a customer's cancellation
-- policy or an admin's percent). NULL on older rows and on confirmed ones: the whole total.
ALTER TABLE bookings ADD COLUMN refund_due bigint;
ALTER TABLE bookings ADD COLUMN refund_percent smallint;
-- The admin list pages through one show's bookings in id order (byte order, as the service merges).
CREATE INDEX bookings_show_id_idx ON bookings (show_id, booking_id COLLATE "C");
