// Types for the parts of `hashring` (3.x, untyped) this project uses.
declare module 'hashring' {
  type Servers = string | string[] | Record<string, number | { weight?: number; vnodes?: number }>;
  class HashRing {
    constructor(servers?: Servers, algorithm?: string | ((key: string) => string), options?: Record<string, unknown>);
    get(key: string): string;
    range(key: string, size?: number, unique?: boolean): string[];
    end(): void;
  }
  export default HashRing;
}
