/**
 * The release artifacts, built so that anyone can rebuild them byte for byte and check them:
 *
 * - `fail2zig-VERSION.tar.gz`: the files git tracks that an installation needs (sources, lockfile,
 *   unit, installer, docs; not tests, fixtures or benchmarks) plus the generated man pages, as a
 *   ustar archive with sorted entries, one fixed mtime (`SOURCE_DATE_EPOCH`, else the last commit's
 *   time), owner 0:0, modes 0644/0755 only, and a gzip header without a time stamp;
 * - `fail2zig-VERSION.cdx.json`: a CycloneDX 1.5 SBOM of that tarball (its SHA-256), the runtime,
 *   and every package of `package-lock.json` with its purl and integrity hash, with a serial number
 *   derived from the content, so it is as reproducible as the tarball;
 * - with `--sign KEY`, a minisign signature (`.minisig`) of each, made by Debian's `minisign`.
 *
 *   release.ts [--out DIR] [--sign SECRET_KEY] [--allow-dirty]
 *
 * A dirty work tree is refused (the archive would not be what the commit says) unless
 * `--allow-dirty`. Verification: docs/security.md, "Release artifacts".
 * @module
 */
import { VERSION } from "../cli/_cli.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Tracked paths that are development material, not part of an installation. */
const EXCLUDED = [
  /^tests\//,
  /^fixtures\//,
  /^bench\//,
  /^\.ci\//,
  /_test\.ts$/,
  /^scripts\/capture/,
];

/** One archive member: repository-relative path, content, executable or not. */
export interface Member {
  readonly path: string;
  readonly data: Uint8Array;
  readonly executable: boolean;
}

async function run(cmd: string, args: string[], cwd = ROOT): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The archive's members: tracked files outside {@link EXCLUDED}, plus the generated man pages. */
export async function collectMembers(): Promise<Member[]> {
  const paths = (await run("git", ["ls-files", "-z"])).split("\0").filter((p) =>
    p !== "" && !EXCLUDED.some((re) => re.test(p))
  );
  const members: Member[] = [];
  for (const path of paths) {
    const info = await Deno.lstat(`${ROOT}/${path}`);
    if (!info.isFile) continue; // a deleted, not yet committed file, or a symlink
    members.push({
      path,
      data: await Deno.readFile(`${ROOT}/${path}`),
      executable: ((info.mode ?? 0) & 0o111) !== 0,
    });
  }
  const man = await Deno.makeTempDir({ prefix: "fail2zig-man-" });
  try {
    await run(Deno.execPath(), [
      "run",
      "-q",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `${ROOT}/scripts/gen_packaging.ts`,
      "man",
      man,
    ]);
    for (const name of ["fail2zig.8", "fail2zig.toml.5"]) {
      members.push({
        path: `man/${name}`,
        data: await Deno.readFile(`${man}/${name}`),
        executable: false,
      });
    }
  } finally {
    await Deno.remove(man, { recursive: true });
  }
  return members.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** Writes `value` as a NUL-terminated octal field of `width` bytes at `at`. */
function octal(header: Uint8Array, at: number, width: number, value: number): void {
  const text = value.toString(8).padStart(width - 1, "0");
  if (text.length > width - 1) throw new Error(`tar field overflow: ${value}`);
  header.set(new TextEncoder().encode(text), at);
}

/** One ustar header block for a regular file; names over 100 bytes use the prefix field. */
function header(name: string, size: number, mode: number, mtime: number): Uint8Array {
  const h = new Uint8Array(512);
  const enc = new TextEncoder();
  let bytes = enc.encode(name);
  if (bytes.length > 100) {
    const cut = name.lastIndexOf("/", 155);
    const prefix = enc.encode(name.slice(0, cut));
    bytes = enc.encode(name.slice(cut + 1));
    if (cut <= 0 || prefix.length > 155 || bytes.length > 100) {
      throw new Error(`path too long for ustar: ${name}`);
    }
    h.set(prefix, 345);
  }
  h.set(bytes, 0);
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum computed over spaces
  h[156] = 0x30; // regular file
  h.set(enc.encode("ustar\u000000"), 257);
  h.set(enc.encode("root"), 265);
  h.set(enc.encode("root"), 297);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\u0000 "), 148);
  return h;
}

/** A ustar archive of `members` under `top/`, every entry stamped `mtime`. */
export function tar(
  members: readonly Member[],
  top: string,
  mtime: number,
): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    parts.push(header(`${top}/${m.path}`, m.data.length, m.executable ? 0o755 : 0o644, mtime));
    parts.push(m.data, new Uint8Array((512 - m.data.length % 512) % 512));
  }
  parts.push(new Uint8Array(1024)); // two zero blocks end the archive
  return concat(parts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** gzip of `data` with a zero MTIME in the header (the runtime's encoder writes none). */
export async function gzip(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  const out = new Uint8Array(await new Response(stream).arrayBuffer());
  out.fill(0, 4, 8); // MTIME: make "no time stamp" explicit whatever the encoder did
  return out;
}

/** Lower-case hex SHA-256 of `data`. */
export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The mtime of every entry: `SOURCE_DATE_EPOCH`, else the last commit's committer time. */
export async function sourceDate(): Promise<number> {
  const env = Deno.env.get("SOURCE_DATE_EPOCH");
  if (env !== undefined) {
    if (!/^\d{1,12}$/.test(env)) throw new Error(`SOURCE_DATE_EPOCH is not a time: ${env}`);
    return Number(env);
  }
  return Number((await run("git", ["log", "-1", "--format=%ct"])).trim());
}

/** One entry of `package-lock.json`'s `packages` map (the fields the SBOM and the build read). */
export interface LockEntry {
  readonly version?: string;
  readonly integrity?: string;
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly license?: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/** `pkg:npm/…` for an npm name (scope `@` percent-encoded, as the purl spec requires). */
export function purl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}

/** npm's `sha512-BASE64` integrity as CycloneDX hashes (hex content). */
export function integrityHashes(integrity: string | undefined): { alg: string; content: string }[] {
  const algs: Record<string, string> = { sha512: "SHA-512", sha384: "SHA-384", sha256: "SHA-256" };
  const hashes = [];
  for (const token of (integrity ?? "").split(/\s+/).filter((t) => t !== "")) {
    const [alg, b64] = token.split("-", 2);
    const name = alg === undefined ? undefined : algs[alg];
    if (name === undefined || b64 === undefined) throw new Error(`bad integrity: ${token}`);
    hashes.push({ alg: name, content: hex(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))) });
  }
  return hashes;
}

/** A UUID (version 5 layout) taken from a SHA-256 hex digest, so equal content gives equal ids. */
function uuidFrom(digest: string): string {
  const h = digest.slice(0, 32).split("");
  h[12] = "5";
  h[16] = (8 | (parseInt(h[16]!, 16) & 3)).toString(16);
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The CycloneDX 1.5 document for a tarball with digest `tarSha256`, from the lockfile. */
export function sbom(
  lock: { packages: Record<string, LockEntry> },
  tarSha256: string,
  mtime: number,
): Record<string, unknown> {
  const rootRef = purl("fail2zig", VERSION);
  const components = [];
  const byName = new Map<string, string>();
  for (const [key, entry] of Object.entries(lock.packages).sort(([a], [b]) => a < b ? -1 : 1)) {
    if (key === "") continue;
    const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
    if (entry.version === undefined) throw new Error(`lockfile entry without version: ${key}`);
    const ref = purl(name, entry.version);
    byName.set(name, ref);
    components.push({
      type: name === "deno" ? "platform" : "library",
      "bom-ref": ref,
      name,
      version: entry.version,
      purl: ref,
      scope: entry.dev === true || entry.optional === true ? "optional" : "required",
      hashes: integrityHashes(entry.integrity),
      ...(entry.license === undefined ? {} : { licenses: [{ license: { id: entry.license } }] }),
      properties: [
        { name: "cdx:npm:package:development", value: String(entry.dev === true) },
        { name: "fail2zig:lockfile-path", value: key },
      ],
    });
  }
  const root = lock.packages[""] ?? {};
  const direct = Object.keys({ ...root.dependencies, ...root.devDependencies }).sort();
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: `urn:uuid:${uuidFrom(tarSha256)}`,
    version: 1,
    metadata: {
      timestamp: new Date(mtime * 1000).toISOString().replace(/\.000Z$/, "Z"),
      tools: { components: [{ type: "application", name: "fail2zig scripts/release.ts" }] },
      component: {
        type: "application",
        "bom-ref": rootRef,
        name: "fail2zig",
        version: VERSION,
        purl: rootRef,
        hashes: [{ alg: "SHA-256", content: tarSha256 }],
        properties: [{ name: "fail2zig:artifact", value: `fail2zig-${VERSION}.tar.gz` }],
      },
    },
    components,
    dependencies: [
      { ref: rootRef, dependsOn: direct.map((n) => byName.get(n)).filter((r) => r !== undefined) },
    ],
  };
}

/** Signs `file` with minisign's secret key `key`, writing `file.minisig`. */
export async function sign(file: string, key: string): Promise<void> {
  await run("minisign", ["-S", "-s", key, "-m", file, "-x", `${file}.minisig`]);
}

/** What {@link build} wrote. */
export interface Artifacts {
  readonly tarball: string;
  readonly sbom: string;
  readonly sha256: string;
}

/** Builds the tarball and its SBOM into `out` (and signs both when `key` is given). */
export async function build(out: string, key?: string): Promise<Artifacts> {
  const mtime = await sourceDate();
  const archive = await gzip(tar(await collectMembers(), `fail2zig-${VERSION}`, mtime));
  const digest = await sha256(archive);
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}/package-lock.json`));
  await Deno.mkdir(out, { recursive: true });
  const tarball = `${out}/fail2zig-${VERSION}.tar.gz`;
  const sbomFile = `${out}/fail2zig-${VERSION}.cdx.json`;
  await Deno.writeFile(tarball, archive);
  await Deno.writeTextFile(sbomFile, JSON.stringify(sbom(lock, digest, mtime), null, 2) + "\n");
  if (key !== undefined) {
    await sign(tarball, key);
    await sign(sbomFile, key);
  }
  return { tarball, sbom: sbomFile, sha256: digest };
}

async function main(args: string[]): Promise<number> {
  let out = `${ROOT}/dist`;
  let key: string | undefined;
  let dirtyOk = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--out" && args[i + 1] !== undefined) out = args[++i]!;
    else if (a === "--sign" && args[i + 1] !== undefined) key = args[++i]!;
    else if (a === "--allow-dirty") dirtyOk = true;
    else {
      console.error("usage: release.ts [--out DIR] [--sign SECRET_KEY] [--allow-dirty]");
      return 2;
    }
  }
  if (!dirtyOk && (await run("git", ["status", "--porcelain", "--untracked-files=no"])) !== "") {
    console.error("release: the work tree has uncommitted changes (--allow-dirty to build anyway)");
    return 1;
  }
  const built = await build(out, key);
  console.log(`${built.tarball}\nsha256 ${built.sha256}\n${built.sbom}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
