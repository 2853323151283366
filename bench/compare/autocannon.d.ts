/** The slice of autocannon 9's API the comparison uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  function autocannon(opts: autocannon.Options): autocannon.Instance;

  namespace autocannon {
    interface RequestParams {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }

    type Context = Record<string, unknown>;

    interface SequenceRequest extends RequestParams {
      /** Returns the request to send, or a falsy value to restart the sequence from its first request. */
      setupRequest?: (req: RequestParams, context: Context) => RequestParams | null | undefined | false;
      onResponse?: (status: number, body: string, context: Context, headers: Record<string, string>) => void;
    }

    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      pipelining?: number;
      timeout?: number;
      requests?: SequenceRequest[];
      initialContext?: Context;
      headers?: Record<string, string>;
    }

    interface Result {
      requests: { total: number; sent: number };
      errors: number;
      timeouts: number;
      resets: number;
      non2xx: number;
      duration: number;
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
    }
  }

  export = autocannon;
}
