/**
 * `deno task compile`: the single executable, built so that the same commit and the same `denort`
 * give the same bytes wherever the checkout lies and whenever its files were written.
 *
 *   compile.ts DENO_COMPILE_FLAGS… --output FILE
 *   compile.ts --stage DIR        only the staging tree, into DIR (scripts/install.sh's checkout
 *                                 copy, where no executable was built)
 *   compile.ts --licences DIR     the licence texts of what either install carries, into
 *                                 DIR/PACKAGE/ (scripts/install.sh, to share/doc/fail2zig/licenses)
 *
 * `deno compile` embeds more than the program: with `nodeModulesDir: "manual"` it packs the whole
 * `node_modules` (the development runtime alone is ≈ 95 MB), every embedded file's mtime, and a
 * parse error naming the absolute path of each file without an extension (`LICENSE`), which it
 * tries to read as a module. So the build runs in a staging directory holding only what the
 * program runs: `mod.ts`, `deno.json`, `package.json`, the non-test sources of `src/` and `cli/`,
 * and the `.js`/`.cjs`/`.mjs`/`.json` files of each package the lockfile does not mark `dev`,
 * every one with the mtime of {@link sourceDate}. The Worker modules the daemon and the filter
 * tester start by URL are not found by `deno compile`'s graph walk and are included by name.
 * The output is always named `fail2zig` while it is built (the name is embedded) and then copied
 * to FILE. The licence texts of the embedded packages are therefore not in the executable;
 * scripts/install.sh installs them beside it ({@link licences}) and the SBOM names each package.
 * @module
 */
import { dirname, resolve } from "node:path";
import { type LockEntry, sha256, sourceDate } from "./release.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Modules started with `new Worker(url)`, which `deno compile` does not follow. */
export const WORKER_MODULES = ["src/daemon/parser_worker.ts", "cli/_filter_worker.ts"];

/** Runtime files of an npm package: what Node's resolution and the module loader read. */
const PACKAGE_FILE = /\.(?:js|cjs|mjs|json)$/;

/** The lockfile's non-development package directories (`node_modules/…`), sorted. */
export function runtimePackages(lock: { packages: Record<string, LockEntry> }): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith("node_modules/") && entry.dev !== true)
    .map(([path]) => path)
    .sort();
}

/** A licence or notice file's name, as npm packages and Deno's runtime ship them. */
const LICENCE_FILE = /^(?:licen[cs]e|copying|notice)(?:[.-].*)?$/i;

/**
 * Copies the licence texts of everything an install carries into `dir/PACKAGE/`: each runtime
 * package's, and the Deno runtime's (the compiled executable is `denort` plus the program; the
 * checkout install runs `deno` itself). Returns the package directories copied from. A runtime
 * package without a licence file is an error: its terms would not reach the installed system.
 */
export async function licences(dir: string): Promise<string[]> {
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}/package-lock.json`));
  const packages = [...runtimePackages(lock), "node_modules/deno"];
  for (const pkg of packages) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(`${ROOT}/${pkg}`)) {
      if (entry.isFile && LICENCE_FILE.test(entry.name)) names.push(entry.name);
    }
    if (names.length === 0) throw new Error(`${pkg} has no licence file`);
    const to = `${dir}/${pkg.slice("node_modules/".length)}`;
    await Deno.mkdir(to, { recursive: true });
    for (const name of names) await Deno.copyFile(`${ROOT}/${pkg}/${name}`, `${to}/${name}`);
  }
  return packages;
}

/** Copies the files of `from` that `keep` accepts, below it too, into `to`. */
async function copyTree(from: string, to: string, keep: (name: string) => boolean): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isDirectory) {
      // A nested node_modules holds other lockfile entries, copied (or not) on their own.
      if (entry.name !== "node_modules") await copyTree(src, dst, keep);
    } else if (entry.isFile && keep(entry.name)) {
      await Deno.copyFile(src, dst);
    }
  }
}

/** Gives `path` and everything below it the same mtime, once all files are in place. */
async function setTimes(path: string, mtime: number): Promise<void> {
  if ((await Deno.lstat(path)).isDirectory) {
    for await (const entry of Deno.readDir(path)) await setTimes(`${path}/${entry.name}`, mtime);
  }
  await Deno.utime(path, mtime, mtime);
}

/** Fills `stage` with what the executable embeds (see the module comment). */
export async function stage(dir: string, mtime: number): Promise<void> {
  for (const file of ["mod.ts", "deno.json", "package.json"]) {
    await Deno.copyFile(`${ROOT}/${file}`, `${dir}/${file}`);
  }
  const source = (name: string) => name.endsWith(".ts") && !name.endsWith("_test.ts");
  for (const tree of ["src", "cli"]) await copyTree(`${ROOT}/${tree}`, `${dir}/${tree}`, source);
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}/package-lock.json`));
  for (const pkg of runtimePackages(lock)) {
    await copyTree(`${ROOT}/${pkg}`, `${dir}/${pkg}`, (name) => PACKAGE_FILE.test(name));
  }
  await setTimes(dir, mtime);
}

async function main(args: string[]): Promise<number> {
  if (args[0] === "--licences" && args[1] !== undefined && args.length === 2) {
    await licences(args[1]);
    return 0;
  }
  const mtime = await sourceDate().catch(() => 0); // a tarball has no git: 1970, still fixed
  if (args[0] === "--stage" && args[1] !== undefined && args.length === 2) {
    await Deno.mkdir(args[1], { recursive: true });
    await stage(args[1], mtime);
    return 0;
  }
  const at = args.indexOf("--output");
  const output = args[at + 1];
  if (at < 0 || output === undefined) {
    console.error(
      "usage: compile.ts DENO_COMPILE_FLAGS… --output FILE | --stage DIR | --licences DIR",
    );
    return 2;
  }
  const flags = [...args.slice(0, at), ...args.slice(at + 2)];
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-stage-" });
  try {
    await stage(dir, mtime);
    const built = await new Deno.Command(Deno.execPath(), {
      stdout: "inherit",
      stderr: "inherit",
      args: [
        "compile",
        "-q",
        "--no-check",
        ...flags,
        ...WORKER_MODULES.flatMap((m) => ["--include", m]),
        "--output",
        `${dir}/fail2zig`,
        "mod.ts",
      ],
      cwd: dir,
    }).spawn().status;
    if (!built.success) return 1;
    const target = resolve(output);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(`${dir}/fail2zig`, target);
    console.log(`${output}\nsha256 ${await sha256(await Deno.readFile(target))}`);
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
