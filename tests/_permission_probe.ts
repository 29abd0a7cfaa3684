/**
 * Run in place of `mod.ts` under the exact argv of a narrowed daemon (tests/daemon_permissions_test.ts):
 * tries each operation named in its JSON argument and prints, per operation, `"ok"` or the
 * error's class name (`NotCapable` for a permission refusal).
 * @module
 */
const probe: {
  read: string[];
  write: string[];
  connect: string[];
  listen: string[];
  run: string[];
  env: string[];
} = JSON.parse(Deno.args[0]!);

async function outcome(what: () => unknown): Promise<string> {
  try {
    await what();
    return "ok";
  } catch (e) {
    return e instanceof Error ? e.constructor.name : String(e);
  }
}

const result: Record<string, string> = {};
for (const p of probe.read) result[`read ${p}`] = await outcome(() => Deno.readFileSync(p));
for (const p of probe.write) {
  result[`write ${p}`] = await outcome(() => Deno.writeTextFileSync(p, "probe\n"));
}
for (const hp of probe.connect) {
  const [hostname, port] = hp.split(/:(?=\d+$)/);
  result[`connect ${hp}`] = await outcome(async () =>
    (await Deno.connect({ hostname: hostname!, port: Number(port) })).close()
  );
}
for (const hp of probe.listen) {
  const [hostname, port] = hp.split(/:(?=\d+$)/);
  result[`listen ${hp}`] = await outcome(() =>
    Deno.listen({ hostname: hostname!, port: Number(port) }).close()
  );
}
for (const c of probe.run) {
  result[`run ${c}`] = await outcome(() => new Deno.Command(c, { args: ["-c", "true"] }).output());
}
for (const v of probe.env) result[`env ${v}`] = await outcome(() => Deno.env.get(v));
console.log(JSON.stringify(result));
