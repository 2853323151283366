import {
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { SEATS_SERVICE_NAME } from './proto.ts';

/** Health Watch streams are cheap but not free: bounded like every other stream. */
export const MAX_HEALTH_WATCHERS = 1_000;

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

interface HealthRequest {
  service: string;
}

/**
 * grpc.health.v1.Health for this server: "" (the whole server) and seats.v1.SeatInventory.
 * Check of an unknown service is NOT_FOUND, Watch of one streams SERVICE_UNKNOWN, as the
 * protocol specifies. Shutdown flips everything to NOT_SERVING first, so probes and load
 * balancers stop sending before connections close.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>([
    ['', 'SERVING'],
    [SEATS_SERVICE_NAME, 'SERVING'],
  ]);
  private readonly watchers = new Set<{ service: string; call: ServerWritableStream<HealthRequest, object> }>();

  setAll(value: ServingStatus): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, value);
    for (const w of this.watchers) if (this.statuses.has(w.service)) w.call.write({ status: value });
  }

  /** Ends every Watch stream (server shutdown). */
  endAll(): void {
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  private readonly check: handleUnaryCall<HealthRequest, object> = (call, callback) => {
    const current = this.statuses.get(call.request.service);
    if (current === undefined) callback({ code: status.NOT_FOUND, details: 'unknown service' });
    else callback(null, { status: current });
  };

  private readonly watch: handleServerStreamingCall<HealthRequest, object> = (call) => {
    if (this.watchers.size >= MAX_HEALTH_WATCHERS) {
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: 'too many health watchers' });
      return;
    }
    const entry = { service: call.request.service, call };
    this.watchers.add(entry);
    const forget = () => this.watchers.delete(entry);
    call.on('cancelled', forget);
    call.on('close', forget);
    call.write({ status: this.statuses.get(entry.service) ?? 'SERVICE_UNKNOWN' });
  };

  implementation(): UntypedServiceImplementation {
    return { Check: this.check, Watch: this.watch };
  }
}
