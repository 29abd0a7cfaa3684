/**
 * Preloaded into the daemon's own process (`deno run --preload tests/_permission_probe.ts …
 * mod.ts daemon --config CONFIG`, tests/daemon_permissions_test.ts). In the broad image, before
 * the daemon narrows itself, it does nothing. In the narrowed image (same PID, no global read
 * grant) it waits for SIGUSR2; then, while the daemon runs, it tries each operation named in
 * `probe.json` beside CONFIG and writes one record to stderr:
 * `{"msg":"permission probe","pid":N,"results":{"read /etc/shadow":"NotCapable",…}}`, each
 * result `"ok"` or the error's class name (`NotCapable` for a permission refusal).
 * @module
 */
import { dirname, join } from "node:path";

/** The operations to try, from `probe.json`. */
interface Plan {
  read: string[];
  write: string[];
  connect: string[];
  listen: string[];
  run: string[];
  env: string[];
}

async function outcome(what: () => unknown): Promise<string> {
  try {
    await what();
    return "ok";
  } catch (e) {
    return e instanceof Error ? e.constructor.name : String(e);
  }
}

const hostPort = (hp: string) => {
  const [hostname, port] = hp.split(/:(?=\d+$)/);
  return { hostname: hostname!, port: Number(port) };
};

async function probe(plan: Plan): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const p of plan.read) result[`read ${p}`] = await outcome(() => Deno.readFileSync(p));
  for (const p of plan.write) {
    result[`write ${p}`] = await outcome(() => Deno.writeTextFileSync(p, "probe\n"));
  }
  for (const hp of plan.connect) {
    result[`connect ${hp}`] = await outcome(async () => (await Deno.connect(hostPort(hp))).close());
  }
  for (const hp of plan.listen) {
    result[`listen ${hp}`] = await outcome(() => Deno.listen(hostPort(hp)).close());
  }
  for (const c of plan.run) {
    result[`run ${c}`] = await outcome(() =>
      new Deno.Command(c, { args: ["-c", "true"] }).output()
    );
  }
  for (const v of plan.env) result[`env ${v}`] = await outcome(() => Deno.env.get(v));
  return result;
}

if (Deno.permissions.querySync({ name: "read" }).state !== "granted") {
  const config = Deno.args[Deno.args.indexOf("--config") + 1]!;
  Deno.addSignalListener("SIGUSR2", async () => {
    const plan: Plan = JSON.parse(Deno.readTextFileSync(join(dirname(config), "probe.json")));
    const results = await probe(plan);
    console.error(JSON.stringify({ msg: "permission probe", pid: Deno.pid, results }));
  });
}
