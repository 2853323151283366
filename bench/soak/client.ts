/**
 * The soak's HTTP calls: plain fetch with keep-alive, the admin token where needed, and
 * the answer's status plus parsed body (never throws on an HTTP error status).
 */

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  /** The stable error code when the call failed (`HTTP_<status>` if the body had none, `NETWORK` when no answer came). */
  code: string | null;
}

export class SoakClient {
  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: { body?: unknown; admin?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.admin) headers.authorization = `Bearer ${this.adminToken}`;
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      return { status: 0, body: {} as T, code: 'NETWORK' };
    }
    const text = await res.text();
    let body = {} as T;
    try {
      if (text) body = JSON.parse(text) as T;
    } catch {
      // not JSON (204, or a proxy page): keep the empty body
    }
    const code = res.ok ? null : ((body as { error?: { code?: string } }).error?.code ?? `HTTP_${res.status}`);
    return { status: res.status, body, code };
  }
}
