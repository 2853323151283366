/** The gRPC front door: seats.v1.SeatInventory and the standard health service. */
export { startGrpcServer, type GrpcServerHandle, type GrpcServerOptions } from './server.ts';
export { GRPC_STATUS, ERROR_METADATA } from './status-map.ts';
export { SEATS_PROTO_PATH, HEALTH_PROTO_PATH, LOADER_OPTIONS } from './proto.ts';
export { CLIENT_CHANNEL_OPTIONS } from './server-options.ts';
