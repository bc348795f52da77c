// Import cycles between the modules (the folders of src/, and its top-level files), which a
// file-level check misses: payments → testmode → payments is a cycle even when no two files
// import each other. Part of `npm run deps` (npm run check). Test files are left out: a test may
// use what sits above the module it tests.
import { cruise, type ICruiseResult } from 'dependency-cruiser';

/** The strongly connected components with more than one member (Tarjan's algorithm, iterative). */
export function cyclesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of edges.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    lowLink.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = edges.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          lowLink.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined)
        lowLink.set(parent.node, Math.min(lowLink.get(parent.node)!, lowLink.get(frame.node)!));
      if (lowLink.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1) components.push(component.sort());
      }
    }
  }
  return components;
}

/** The module a file belongs to: its folder under src/, or itself for a top-level file. */
function moduleOf(file: string): string | undefined {
  return /^src\/[^/]+/.exec(file)?.[0];
}

async function main(): Promise<void> {
  const result = await cruise(['src'], {
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  });
  const output = result.output as ICruiseResult;
  const targetsOf = new Map<string, Set<string>>();
  for (const file of output.modules) {
    const from = moduleOf(file.source);
    if (from === undefined) continue;
    const targets = targetsOf.get(from) ?? new Set<string>();
    targetsOf.set(from, targets);
    // A type-only import is erased before the code runs: API objects are typed against the
    // domain's types while the domain calls their presenters (docs/decisions.md).
    for (const dependency of file.dependencies) {
      const to = moduleOf(dependency.resolved);
      if (to !== undefined && to !== from && !dependency.dependencyTypes.includes('type-only'))
        targets.add(to);
    }
  }
  const edges = new Map([...targetsOf].map(([from, targets]) => [from, [...targets]]));
  const cycles = cyclesOf(edges);
  for (const cycle of cycles) {
    const ties = cycle.flatMap((from) =>
      (edges.get(from) ?? []).filter((to) => cycle.includes(to)).map((to) => `${from} → ${to}`),
    );
    console.error(`module cycle: ${cycle.join(', ')}\n  ${ties.join('\n  ')}`);
  }
  if (cycles.length > 0) process.exit(1);
  console.log(`no import cycle between the ${edges.size} modules of src/`);
}

if (import.meta.main) await main();
