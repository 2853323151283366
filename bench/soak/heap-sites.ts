/**
 * Where the memory still alive was allocated, from V8's sampling heap profile
 * (HeapProfiler.getSamplingProfile): each sampled allocation's bytes go to the innermost
 * frame of its stack that is this project's code (src/), so "who keeps memory" reads in
 * project terms rather than as Map.set or Array.push. Pure: takes the profile, returns rows.
 */

export interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

export interface HeapSite {
  /** `function (src/path.ts)`, or the leaf frame when no project frame is on the stack. */
  site: string;
  bytes: number;
}

const PROJECT_FRAME = /\/src\/(.+)$/;

function describe(frame: SamplingNode['callFrame'], projectPath: string | null): string {
  const name = frame.functionName || '(anonymous)';
  // No line numbers: they point into the loader's transpiled output, not the .ts source.
  if (projectPath) return `${name} (src/${projectPath})`;
  const file = frame.url ? frame.url.split('/').slice(-2).join('/') : 'native';
  return `${name} (${file})`;
}

export function heapSites(head: SamplingNode, top = 20): { totalBytes: number; sites: HeapSite[] } {
  const bySite = new Map<string, number>();
  let totalBytes = 0;
  const walk = (node: SamplingNode, nearestProject: string | null) => {
    const m = PROJECT_FRAME.exec(node.callFrame.url.replace(/^file:\/\//, ''));
    const here = m && !m[1].includes('node_modules') ? describe(node.callFrame, m[1]) : nearestProject;
    if (node.selfSize > 0) {
      const key = here ?? describe(node.callFrame, null);
      bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
      totalBytes += node.selfSize;
    }
    for (const child of node.children) walk(child, here);
  };
  walk(head, null);
  const sites = [...bySite.entries()].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes);
  return { totalBytes, sites: sites.slice(0, top) };
}
