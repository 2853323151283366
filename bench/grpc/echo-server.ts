/**
 * Child process of bench/grpc/run.ts: a bare grpc-js server answering Echo with a reply of
 * the asked size. Same server options as the real one. Prints {"port":N} once listening.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SERVER_OPTIONS } from '../../src/gateway/grpc/server-options.ts';

const ECHO_PROTO = fileURLToPath(new URL('./echo.proto', import.meta.url));
const def = protoLoader.loadSync(ECHO_PROTO, { keepCase: true, longs: Number, defaults: true });
const service = def['bench.v1.Echo'] as grpc.ServiceDefinition;
const padding = Buffer.alloc(64 * 1024, 7);

const server = new grpc.Server(SERVER_OPTIONS);
server.addService(service, {
  Echo: (call: grpc.ServerUnaryCall<{ reply_bytes: number }, object>, callback: grpc.sendUnaryData<object>) => {
    callback(null, { payload: padding.subarray(0, Math.min(call.request.reply_bytes, padding.length)) });
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
