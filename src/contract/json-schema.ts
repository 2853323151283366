import { z } from 'zod';

/** A JSON Schema object as z.toJSONSchema writes it. */
export type JsonSchema = Record<string, unknown>;

export interface Components {
  /** Each named schema as JSON Schema (draft 2020-12, what OpenAPI 3.1 and AsyncAPI 3.0 take). */
  schemas: Record<string, JsonSchema>;
  /** `{ $ref }` to a named schema; throws for a schema that has no name (it would go undocumented). */
  ref(schema: z.ZodType): { $ref: string };
}

/**
 * Converts named zod schemas to JSON Schema in one pass, so a schema named here and used
 * inside another becomes a `$ref` (under `base`, e.g. `#/components/schemas/`) instead of a
 * copy. `target` draft-7 is what AsyncAPI's schema format builds on; OpenAPI 3.1 takes 2020-12.
 * Converted in input mode: what a sender may send (defaults optional), and objects
 * that are not strict stay open to new fields.
 */
export function components(
  named: Record<string, z.ZodType>,
  base: string,
  target: 'draft-2020-12' | 'draft-7' = 'draft-2020-12',
): Components {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  for (const [id, schema] of Object.entries(named)) {
    if (names.has(schema)) continue; // one schema under two names: the first one
    registry.add(schema, { id });
    names.set(schema, id);
  }
  const out = z.toJSONSchema(registry, { io: 'input', target, uri: (id) => `${base}${id}` }) as { schemas: Record<string, JsonSchema> };
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, s] of Object.entries(out.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = s;
    schemas[id] = rest;
  }
  return {
    schemas,
    ref(schema) {
      const id = names.get(schema);
      if (id === undefined) throw new Error('a schema without a name in the API description');
      return { $ref: `${base}${id}` };
    },
  };
}

/** One schema inline (a path or query parameter), without the `$schema` header. */
export function inline(schema: z.ZodType): JsonSchema {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  return rest;
}
