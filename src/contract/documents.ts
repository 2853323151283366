import { createHash } from 'node:crypto';
import { buildAsyncApi } from './asyncapi.ts';
import { buildOpenApi } from './openapi.ts';

/** A served description: its JSON and an ETag over it. */
export interface ContractDocument {
  body: string;
  etag: string;
}

/** Where the descriptions are served (GET, no auth). */
export const OPENAPI_PATH = '/v1/openapi.json';
export const ASYNCAPI_PATH = '/v1/asyncapi.json';
/** The documents change only with the code: caches may keep them a while and revalidate by ETag. */
export const DOCUMENT_CACHE_CONTROL = 'public, max-age=300';

const builders: Record<string, () => object> = { [OPENAPI_PATH]: buildOpenApi, [ASYNCAPI_PATH]: buildAsyncApi };
const built = new Map<string, ContractDocument>();

/** The document served at `path`, built on first use and kept; undefined for any other path. */
export function contractDocument(path: string): ContractDocument | undefined {
  const build = builders[path];
  if (!build) return undefined;
  let doc = built.get(path);
  if (!doc) {
    const body = JSON.stringify(build());
    doc = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    built.set(path, doc);
  }
  return doc;
}
