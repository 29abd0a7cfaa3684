/**
 * docs/fleet.md's "without `[fleet]` nothing of this is loaded": in the module graph of `mod.ts`
 * (`deno info --json`), the modules reached by static imports that run (type-only imports are
 * erased) hold nothing of `src/fleet/` and no `@nats-io` package; src/fleet comes in only by the
 * daemon's dynamic import when `[fleet]` is configured, and by `fleet unban`'s.
 * @module
 */
import { deepEqual, ok } from "node:assert/strict";

interface Dependency {
  readonly specifier: string;
  readonly code?: { readonly specifier: string };
  readonly isDynamic?: boolean;
}
interface Graph {
  readonly roots: string[];
  readonly modules: { readonly specifier: string; readonly dependencies?: Dependency[] }[];
}

/** The modules `entry` loads by static imports that run, and its dynamic imports (`from -> to`). */
async function staticGraph(entry: string): Promise<{ loaded: string[]; dynamic: string[] }> {
  const root = new URL("../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stderr: "inherit",
  }).output();
  ok(out.success, `deno info ${entry}`);
  const graph: Graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const deps = new Map(graph.modules.map((m) => [m.specifier, m.dependencies ?? []]));
  const rel = (spec: string) => spec.replace(root.href, "");
  const loaded = new Set<string>();
  const dynamic: string[] = [];
  const visit = (spec: string) => {
    if (loaded.has(spec)) return;
    loaded.add(spec);
    for (const d of deps.get(spec) ?? []) {
      if (d.code === undefined) continue; // a type-only import
      if (d.isDynamic) dynamic.push(`${rel(spec)} -> ${rel(d.code.specifier)}`);
      else visit(d.code.specifier);
    }
  };
  graph.roots.forEach(visit);
  return { loaded: [...loaded].map(rel), dynamic };
}

Deno.test("without [fleet] nothing of src/fleet or the NATS client is loaded: only a dynamic import reaches them", async () => {
  // `fail2zig daemon` (what mod.ts loads for it) and the parser Worker it starts
  const daemon = await staticGraph("cli/daemon.ts");
  const worker = await staticGraph("src/daemon/parser_worker.ts");
  for (const g of [daemon, worker]) {
    deepEqual(g.loaded.filter((s) => s.startsWith("src/fleet/") || s.includes("@nats-io/")), []);
  }
  ok(daemon.loaded.includes("src/daemon/daemon.ts"), `${daemon.loaded.length} modules`);
  ok(worker.loaded.includes("src/filters/mod.ts"), `${worker.loaded.length} modules`);
  // where the fleet does come in: the daemon's start, when [fleet] is configured
  deepEqual(daemon.dynamic.filter((d) => d.includes("src/fleet/")), [
    "src/daemon/daemon.ts -> src/fleet/mod.ts",
  ]);
  ok(
    (await staticGraph("src/fleet/mod.ts")).loaded.some((s) =>
      s.includes("@nats-io/transport-node")
    ),
  );
});
