import { deepEqual as equal, ok } from "node:assert/strict";
import { licences, runtimePackages, WORKER_MODULES } from "./compile.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** A checkout at `dir`: the files the task reads, its node_modules shared by a symlink. */
async function checkout(dir: string, mtime: number): Promise<void> {
  const files = [
    "mod.ts",
    "deno.json",
    "package.json",
    "package-lock.json",
    "src",
    "cli",
    "scripts",
  ];
  const cp = await new Deno.Command("cp", { args: ["-r", ...files, dir], cwd: ROOT }).output();
  ok(cp.success);
  const touch = await new Deno.Command("find", {
    args: [dir, "-exec", "touch", "-h", "-d", `@${mtime}`, "{}", "+"],
  }).output();
  ok(touch.success);
  await Deno.symlink(`${ROOT}/node_modules`, `${dir}/node_modules`);
}

Deno.test("deno task compile gives the same bytes from two checkouts and embeds only what runs", async () => {
  // deno compile appends its payload (modules, files, flags) to the denort it is given; with a
  // stand-in denort the output is that payload after a fixed file, which is what a real denort's
  // build differs in, if at all. Two checkouts at different paths with different file times must
  // give the same executable.
  const tmp = await Deno.makeTempDir({ prefix: "fail2zig-compile-" });
  try {
    const denort = `${tmp}/denort`;
    await Deno.copyFile("/usr/bin/true", denort);
    await Deno.chmod(denort, 0o755);
    const task = String(JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks.compile);
    const built: Uint8Array[] = [];
    for (
      const [name, mtime] of [["a", 1_000_000_000], ["second-checkout", 1_700_000_000]] as const
    ) {
      const dir = `${tmp}/${name}`;
      await Deno.mkdir(dir);
      await checkout(dir, mtime);
      const r = await new Deno.Command("sh", {
        args: ["-c", task],
        cwd: dir,
        env: { DENORT_BIN: denort, SOURCE_DATE_EPOCH: "1767225600" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(r.code, 0, new TextDecoder().decode(r.stderr));
      const bytes = await Deno.readFile(`${dir}/dist/fail2zig`);
      const text = new TextDecoder("latin1").decode(bytes);
      ok(!text.includes(dir), `the build path ${dir} is embedded`);
      for (const worker of WORKER_MODULES) {
        const file = worker.slice(worker.lastIndexOf("/") + 1);
        ok(text.includes(`"n":"${file}"`), `${worker} is not embedded`);
      }
      built.push(bytes);
    }
    const [a, b] = built as [Uint8Array, Uint8Array];
    equal(a.length, b.length);
    ok(a.every((byte, i) => byte === b[i]), "the two builds differ");
    // The development runtime (npm's deno, ≈ 95 MB) and the other dev packages stay out.
    ok(a.length < 8 * 1024 * 1024, `${a.length} bytes`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the executable embeds the lockfile's packages that are not marked dev", () => {
  const lock = {
    packages: {
      "": {},
      "node_modules/smol-toml": {},
      "node_modules/deno": { dev: true },
      "node_modules/@nats-io/nkeys": {},
      "node_modules/@nats-io/nkeys/node_modules/tweetnacl": {},
      "node_modules/@deno/linux-x64-glibc": { dev: true },
    },
  };
  equal(runtimePackages(lock), [
    "node_modules/@nats-io/nkeys",
    "node_modules/@nats-io/nkeys/node_modules/tweetnacl",
    "node_modules/smol-toml",
  ]);
});

Deno.test("every module the program starts by URL is in WORKER_MODULES", async () => {
  // deno compile leaves out what `new URL("./x.ts", import.meta.url)` names; a Worker module
  // missing from the list would be missing from the executable.
  const started: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory && entry.name !== "testdata") await walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
        const text = await Deno.readTextFile(`${ROOT}/${path}`);
        for (const m of text.matchAll(/new URL\("\.\/([\w.]+\.ts)", import\.meta\.url\)/g)) {
          started.push(`${dir}/${m[1]}`);
        }
      }
    }
  };
  for (const dir of ["src", "cli"]) await walk(dir);
  equal(started.sort(), [...WORKER_MODULES].sort());
});

Deno.test("the licence texts of the runtime and of every embedded package are collected", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fail2zig-licences-" });
  try {
    const lock = JSON.parse(await Deno.readTextFile(`${ROOT}/package-lock.json`));
    const copied = await licences(tmp);
    equal(copied, [...runtimePackages(lock), "node_modules/deno"]);
    for (const pkg of copied) {
      const to = `${tmp}/${pkg.slice("node_modules/".length)}`;
      const names = [...Deno.readDirSync(to)].map((e) => e.name);
      ok(names.length > 0, `${pkg}: no licence`);
      for (const name of names) {
        equal(Deno.readFileSync(`${to}/${name}`), Deno.readFileSync(`${ROOT}/${pkg}/${name}`));
      }
    }
    equal(
      (await Deno.readTextFile(`${tmp}/deno/LICENSE`)).split("\n")[0],
      "MIT License",
      "denort's terms",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
