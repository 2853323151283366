import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAYERS, SHARED_FILES, checkGraph, findCycles, importSpecifiers } from '../../scripts/import-rules.mjs';

describe('import rules', () => {
  it('reports a cycle and an import from a higher layer in a small graph', () => {
    const graph = {
      'src/gateway/http/routes.ts': ['src/service/seat-service.ts'],
      'src/service/seat-service.ts': ['src/core/ports.ts'],
      // A port that imports the actor shell, which imports the port back.
      'src/core/ports.ts': ['src/actors/actor-host.ts'],
      'src/actors/actor-host.ts': ['src/core/ports.ts', 'src/gateway/http/routes.ts'],
      'src/persistence/file-event-log.ts': ['src/core/ports.ts', 'src/errors.ts'],
      'src/errors.ts': [],
    };
    const { cycles, violations } = checkGraph(graph);
    assert.deepEqual(cycles, [['src/actors/actor-host.ts', 'src/core/ports.ts']]);
    assert.deepEqual(
      violations.map((v) => `${v.from} → ${v.to}`),
      ['src/actors/actor-host.ts → src/gateway/http/routes.ts', 'src/core/ports.ts → src/actors/actor-host.ts'],
    );
    assert.equal(violations[0].fromLayer, 'actors');
    assert.equal(violations[0].toLayer, 'gateway');
  });

  it('passes a graph that follows the layers, shared leaves and named shared files included', () => {
    const graph = {
      'src/main.ts': ['src/gateway/index.ts', 'src/persistence/index.ts', 'src/cluster/worker.ts'],
      'src/gateway/index.ts': ['src/service/seat-service.ts', 'src/projections/out-events.ts', 'src/logger.ts'],
      'src/service/seat-service.ts': ['src/actors/show-actor.ts', 'src/core/seat-api.ts'],
      'src/actors/show-actor.ts': ['src/core/ports.ts'],
      'src/core/ports.ts': ['src/actors/types.ts'],
      'src/actors/types.ts': [],
      'src/projections/out-events.ts': ['src/core/ports.ts'],
      'src/persistence/index.ts': ['src/core/storage.ts', 'src/persistence/out-stream.ts'],
      'src/cluster/worker.ts': ['src/persistence/index.ts'],
    };
    assert.deepEqual(checkGraph(graph, LAYERS, SHARED_FILES), { cycles: [], violations: [] });
  });

  it('finds each cycle once, however it is entered', () => {
    const cycles = findCycles({ a: ['b'], b: ['c'], c: ['a', 'b'], d: ['a'] });
    assert.deepEqual(cycles.map((c) => c.join(' ')).sort(), ['a b c', 'b c']);
  });

  it('reads every kind of relative import and nothing in comments', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "import {\n  c,\n  type C,\n} from './c.ts';",
      "export { d } from './d.ts';",
      "export type { E } from './e.ts';",
      "import './side-effect.ts';",
      "const f = await import('./f.ts');",
      "import { z } from 'zod';",
      "// import { g } from './g.ts';",
      "/* import { h } from './h.ts'; */",
    ].join('\n');
    assert.deepEqual(importSpecifiers(source).sort(), ['../b.ts', './a.ts', './c.ts', './d.ts', './e.ts', './f.ts', './side-effect.ts']);
  });
});
