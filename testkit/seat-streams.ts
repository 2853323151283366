import { connect, type NatsConnection } from 'nats';

/**
 * The JetStream streams a durable storage opened under its own event stream name: the events
 * (`stream`) and the out-events it creates beside them (`<stream>_OUT`, see
 * src/persistence/out-stream.ts). Tests and benches that give the storage a stream of their
 * own delete both when they are done; a stream that is already gone is fine.
 */
export function seatStreams(stream: string): [events: string, outEvents: string] {
  return [stream, `${stream}_OUT`];
}

/** Deletes `stream` and `<stream>_OUT` over `nc` (missing ones are skipped). */
export async function deleteSeatStreams(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  for (const name of seatStreams(stream)) await jsm.streams.delete(name).catch(() => false);
}

/** The same on a connection of its own to `natsUrl`, closed afterwards. */
export async function deleteSeatStreamsAt(natsUrl: string, stream: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: 'seat-streams-cleanup', timeout: 5_000 });
  try {
    await deleteSeatStreams(nc, stream);
  } finally {
    await nc.close();
  }
}
