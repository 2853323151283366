import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The contract files, resolved from this module so any working directory works. */
export const SEATS_PROTO_PATH = fileURLToPath(new URL('../../../proto/seats.proto', import.meta.url));
export const HEALTH_PROTO_PATH = fileURLToPath(new URL('../../../proto/health.proto', import.meta.url));

export const SEATS_SERVICE_NAME = 'seats.v1.SeatInventory';
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/**
 * One set of loader options for server and clients. Fields keep the proto's snake_case
 * (DESIGN: field names are the HTTP ones in snake_case); int64 money and versions load as
 * numbers (all below 2^53); unset scalars decode to their proto3 defaults while
 * `optional` fields stay undefined when absent, so presence is visible exactly where the
 * contract says it matters.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  arrays: true,
};

export interface LoadedServices {
  seats: grpc.ServiceDefinition;
  health: grpc.ServiceDefinition;
  /** The whole loaded package, for server reflection. */
  definition: protoLoader.PackageDefinition;
}

/**
 * Service definitions for the server. WatchShow's serializer passes pre-encoded Buffers
 * through, so one delta is encoded once however many streams watch the show.
 */
export function loadServices(): LoadedServices {
  const pkg = protoLoader.loadSync([SEATS_PROTO_PATH, HEALTH_PROTO_PATH], LOADER_OPTIONS);
  const seats = pkg[SEATS_SERVICE_NAME] as grpc.ServiceDefinition;
  const watch = seats.WatchShow;
  const encode = watch.responseSerialize;
  const withPassThrough = { ...watch, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)) };
  return {
    seats: { ...seats, WatchShow: withPassThrough },
    health: pkg[HEALTH_SERVICE_NAME] as grpc.ServiceDefinition,
    definition: pkg,
  };
}

/** Encodes one ShowUpdate message to its wire bytes (used by the per-delta cache). */
export function showUpdateEncoder(services: LoadedServices): (update: object) => Buffer {
  return (update) => services.seats.WatchShow.responseSerialize(update);
}
