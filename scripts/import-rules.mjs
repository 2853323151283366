// The dependency rules of src/ (docs/architecture.md) and a pure checker for them: given a
// map file → imported files (paths relative to the repository, type imports included), the
// import cycles and the imports from a higher layer. No I/O here; check-imports.mjs reads
// the files.

/**
 * Layers, matched in order by path prefix (the first match names a file's layer). A file may
 * import its own layer and the layers listed in its `may`; anything else is a violation.
 * Files no layer matches (config, errors, logger, metrics, subjects, admin-auth) are shared
 * leaves every layer may import. Imports run one way:
 *   gateway → service → actors → core ← adapters (persistence, projections)
 * with the cluster a host beside the gateway (no gateway files), and the composition roots
 * free to wire anything.
 */
export const LAYERS = [
  {
    name: 'root',
    match: [
      'src/main.ts',
      'src/node.ts',
      'src/cluster/worker.ts',
      'src/cluster/gateway-node.ts',
      // The cluster's public entry, the extension list a worker runs, the in-process cluster.
      'src/cluster/index.ts',
      'src/cluster/extensions.ts',
      'src/cluster/in-process/cluster.ts',
      'src/cluster/in-process/index.ts',
    ],
    may: '*',
  },
  // The client library ships alone: plain types of the core and the actors, and the wire shapes.
  { name: 'client', match: ['src/client/'], may: ['core', 'actors', 'wire-shapes'] },
  // The API description (src/contract) is the gateway's contract, so it sits with the gateway.
  { name: 'gateway', match: ['src/gateway/', 'src/contract/'], may: ['service', 'actors', 'core', 'out-event-shapes'] },
  { name: 'cluster', match: ['src/cluster/'], may: ['service', 'actors', 'core', 'persistence', 'projections'] },
  { name: 'service', match: ['src/service/'], may: ['actors', 'core'] },
  { name: 'projections', match: ['src/projections/'], may: ['actors', 'core'] },
  { name: 'persistence', match: ['src/persistence/'], may: ['actors', 'core'] },
  { name: 'actors', match: ['src/actors/'], may: ['core'] },
  // The ports speak of the actor's plain data (events, states, views); nothing else above.
  { name: 'core', match: ['src/core/'], may: ['actor-data'] },
];

/** Named single files a layer may import from a layer it otherwise may not (each with its reason). */
export const SHARED_FILES = {
  // The actor's data types, which the ports name.
  'actor-data': ['src/actors/types.ts', 'src/actors/views.ts', 'src/actors/show-state.ts'],
  // The WebSocket frames a client reads.
  'wire-shapes': ['src/gateway/ws/protocol.ts'],
  // The out-events the API description documents.
  'out-event-shapes': ['src/projections/out-events.ts'],
};

function layerOf(file, layers) {
  for (const layer of layers) if (layer.match.some((m) => (m.endsWith('/') ? file.startsWith(m) : file === m))) return layer.name;
  return null;
}

function allowed(from, to, layers, shared) {
  const a = layerOf(from, layers);
  const b = layerOf(to, layers);
  if (a === null || b === null || a === b) return true;
  const rule = layers.find((l) => l.name === a);
  if (rule.may === '*') return true;
  if (rule.may.includes(b)) return true;
  return rule.may.some((name) => (shared[name] ?? []).includes(to));
}

/**
 * The cycles a depth-first walk meets (one per back edge; a graph has a cycle exactly when it
 * has one), each once, rotated to start at its smallest file.
 */
export function findCycles(graph) {
  const cycles = new Map();
  const state = new Map(); // file → 1 on the stack, 2 done
  const stack = [];
  const visit = (file) => {
    state.set(file, 1);
    stack.push(file);
    for (const next of graph[file] ?? []) {
      if (!(next in graph)) continue;
      const s = state.get(next);
      if (s === 1) {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join(' → '), rotated);
      } else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 2);
  };
  for (const file of Object.keys(graph).sort()) if (!state.has(file)) visit(file);
  return [...cycles.values()];
}

/**
 * The rule breaks of an import graph: `cycles` (lists of files, the first imported by the
 * last) and `violations` ({ from, to, fromLayer, toLayer }).
 */
export function checkGraph(graph, layers = LAYERS, shared = SHARED_FILES) {
  const violations = [];
  for (const from of Object.keys(graph).sort())
    for (const to of graph[from])
      if (!allowed(from, to, layers, shared)) violations.push({ from, to, fromLayer: layerOf(from, layers), toLayer: layerOf(to, layers) });
  return { cycles: findCycles(graph), violations };
}

/** The relative specifiers a TypeScript file imports or re-exports (`import type` too; dynamic imports too). */
export function importSpecifiers(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specs = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) if (m[1].startsWith('.')) specs.push(m[1]);
  return specs;
}
