import type { CallContext } from '../service/seat-service.ts';
import { clientAddress } from './client-address.ts';
import { CustomerTokens } from './customer-token.ts';

export interface EdgeIdentityOptions {
  /** Peers whose X-Forwarded-For names the client. */
  trustedProxies?: readonly string[];
  /** Set: a customerId is accepted only with a valid customer token signed with it. */
  customerTokenSecret?: string | undefined;
}

/** What one request says about who sends it, as the door read it off the wire. */
export interface CallerClaims {
  /** Socket peer address. */
  peer: string | undefined;
  /** X-Forwarded-For (header or gRPC metadata); believed only from a trusted proxy. */
  forwardedFor: string | string[] | undefined;
  /** The customerId the request names, if any (already validated). */
  customerId?: string | undefined;
  /** Customer-Token (header, gRPC metadata or frame field). */
  customerToken?: string | undefined;
}

/** The caller of admin calls: one principal, whatever address the admin calls from. */
export const ADMIN_CALLER = 'admin';

/**
 * Establishes the caller of a request, the same way at every front door. Idempotency keys are
 * scoped to it, so one caller's key never replays another caller's answer.
 *
 * - With customer tokens on and a customerId given, the token is checked (UNAUTHENTICATED if
 *   missing, wrong or expired) and the customer alone is the caller: a retry from a changed
 *   address still gets its first answer.
 * - Otherwise the caller is the client address, plus the customerId when one is given (an
 *   unsigned claim, so never a scope on its own).
 */
export class EdgeIdentity {
  private readonly trustedProxies: readonly string[];
  private readonly tokens: CustomerTokens | null;

  constructor(opts: EdgeIdentityOptions = {}) {
    this.trustedProxies = opts.trustedProxies ?? [];
    this.tokens = opts.customerTokenSecret ? new CustomerTokens(opts.customerTokenSecret) : null;
  }

  get customerTokensOn(): boolean {
    return this.tokens !== null;
  }

  address(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    return clientAddress(peer, forwardedFor, this.trustedProxies);
  }

  caller(claims: CallerClaims, nowMs = Date.now()): string {
    const { customerId } = claims;
    if (customerId !== undefined && this.tokens) {
      this.tokens.check(customerId, claims.customerToken, nowMs);
      return `customer:${customerId}`;
    }
    const address = `address:${this.address(claims.peer, claims.forwardedFor)}`;
    return customerId !== undefined ? `${address} customer:${customerId}` : address;
  }

  /** The CallContext of a request: its caller and, when given, its (validated) idempotency key. */
  context(claims: CallerClaims, idempotencyKey: string | undefined): CallContext {
    const caller = this.caller(claims);
    return idempotencyKey !== undefined ? { caller, idempotencyKey } : { caller };
  }
}
