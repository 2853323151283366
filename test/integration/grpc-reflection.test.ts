import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startHarness, type Harness } from './grpc-harness.ts';

// The reflection protocol's own proto, as the package ships it.
const require = createRequire(import.meta.url);
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');

interface ReflectionReply {
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request on the bidirectional ServerReflectionInfo stream, as grpcurl sends them. */
function ask(client: grpc.Client & Record<string, any>, request: Record<string, string>): Promise<ReflectionReply> {
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (reply: ReflectionReply) => {
      resolve(reply);
      call.end();
    });
    call.on('error', reject);
    call.write(request);
  });
}

describe('grpc: server reflection', () => {
  let h: Harness;
  let reflection: grpc.Client & Record<string, any>;
  before(async () => {
    h = await startHarness();
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(REFLECTION_PROTO, { keepCase: true })) as any;
    reflection = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${h.server.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    reflection?.close();
    await h?.stop();
  });

  it('lists seats.v1.SeatInventory and health without the proto files', async () => {
    const reply = await ask(reflection, { list_services: '' });
    const names = reply.list_services_response?.service.map((s) => s.name) ?? [];
    assert.ok(names.includes('seats.v1.SeatInventory'), names.join(', '));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
  });

  it('describes the service: its file carries every RPC', async () => {
    const reply = await ask(reflection, { file_containing_symbol: 'seats.v1.SeatInventory' });
    const files = reply.file_descriptor_response?.file_descriptor_proto ?? [];
    assert.ok(files.length >= 1, JSON.stringify(reply.error_response));
    const text = Buffer.concat(files).toString('latin1');
    for (const rpc of ['CreateShow', 'Hold', 'Confirm', 'WatchShow']) assert.ok(text.includes(rpc), `${rpc} missing from the descriptor`);
  });
});
