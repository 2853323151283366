/** Types of import-rules.mjs (the dependency rules of src/ and their checker). */
export interface Layer {
  name: string;
  /** Path prefixes ending in `/`, or whole file paths. */
  match: string[];
  /** Layers (or SHARED_FILES groups) this layer may import; '*' for anything. */
  may: string[] | '*';
}
export interface LayerViolation {
  from: string;
  to: string;
  fromLayer: string | null;
  toLayer: string | null;
}
export type ImportGraph = Record<string, string[]>;
export const LAYERS: Layer[];
export const SHARED_FILES: Record<string, string[]>;
export function findCycles(graph: ImportGraph): string[][];
export function checkGraph(graph: ImportGraph, layers?: Layer[], shared?: Record<string, string[]>): { cycles: string[][]; violations: LayerViolation[] };
export function importSpecifiers(source: string): string[];
