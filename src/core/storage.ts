import type { OutSink } from './out-sink.ts';
import type { BookingStore, Bus, Catalog, EventLog, SnapshotStore } from './ports.ts';

/** Every storage port a node needs, opened together and closed together (src/persistence opens them). */
export interface Storage {
  kind: 'memory' | 'embedded' | 'durable';
  log: EventLog;
  snapshots: SnapshotStore;
  catalog: Catalog;
  bus: Bus;
  /** Present when bookings must also be committed outside the log (Postgres). */
  bookings?: BookingStore;
  /**
   * Where bookings a show no longer keeps in memory (cancelled long ago) are kept and read
   * from: the bookings table in the cluster, `DATA_DIR/bookings/` embedded. Absent (volatile
   * memory store): shows keep every booking.
   */
  archive?: BookingStore;
  /**
   * Where out-events are delivered at least once (the JetStream out stream of the durable
   * storage). Absent: out-events go on the bus only (at most once).
   */
  outSink?: OutSink;
  close(): Promise<void>;
}
