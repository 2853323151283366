import { z } from 'zod';

/**
 * Keys an answer carries that its schema does not describe, anywhere in it (zod objects drop
 * unknown keys silently, and the description must not be missing what the server sends).
 */
export function undescribed(schema: z.ZodType, value: unknown, at = ''): string[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable)
    return value == null ? [] : undescribed(schema.unwrap() as z.ZodType, value, at);
  if (schema instanceof z.ZodUnion) {
    const fits = (schema.options as z.ZodType[]).find((o) => o.safeParse(value).success);
    return fits ? undescribed(fits, value, at) : [];
  }
  if (schema instanceof z.ZodArray && Array.isArray(value))
    return value.flatMap((v, i) => undescribed(schema.element as z.ZodType, v, `${at}[${i}]`));
  if (schema instanceof z.ZodRecord && value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => undescribed(schema.valueType as z.ZodType, v, `${at}.${k}`));
  if (schema instanceof z.ZodObject && value && typeof value === 'object') {
    const shape = schema.shape as Record<string, z.ZodType>;
    return Object.entries(value).flatMap(([k, v]) => (k in shape ? undescribed(shape[k], v, `${at}.${k}`) : [`${at}.${k}`]));
  }
  return [];
}
