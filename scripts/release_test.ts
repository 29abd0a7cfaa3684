import {
  deepEqual as assertEquals,
  notEqual as assertNotEquals,
  ok as assert,
} from "node:assert/strict";
import { build, integrityHashes, purl } from "./release.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function sh(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { ok: o.success, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

async function fileSha256(path: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("release: tarball and SBOM are byte-identical when built twice", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    const first = await build(a);
    const second = await build(b);
    assertEquals(await fileSha256(first.tarball), await fileSha256(second.tarball));
    assertEquals(await fileSha256(first.tarball), first.sha256);
    assertEquals(await Deno.readTextFile(first.sbom), await Deno.readTextFile(second.sbom));
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("release: the tarball holds what an install needs, stamped with SOURCE_DATE_EPOCH, owner 0", async () => {
  const out = await Deno.makeTempDir();
  const before = Deno.env.get("SOURCE_DATE_EPOCH");
  Deno.env.set("SOURCE_DATE_EPOCH", "1700000000");
  try {
    const { tarball } = await build(out);
    const listing = await sh("tar", ["--numeric-owner", "--full-time", "-tvzf", tarball]);
    assert(listing.ok, listing.out);
    const rows = listing.out.trim().split("\n").map((l) => l.split(/\s+/));
    const names = rows.map((r) => r[5]!.replace(/^fail2zig-[^/]+\//, ""));
    for (const need of ["mod.ts", "deno.json", "package-lock.json", "src/daemon/daemon.ts"]) {
      assert(names.includes(need), `missing ${need}`);
    }
    for (const need of ["packaging/fail2zig.service", "scripts/install.sh", "man/fail2zig.8"]) {
      assert(names.includes(need), `missing ${need}`);
    }
    assert(!names.some((n) => n.startsWith("tests/") || n.endsWith("_test.ts")), "tests shipped");
    assertEquals([...names].sort(), names, "entries sorted");
    for (const r of rows) {
      assert(r[0] === "-rw-r--r--" || r[0] === "-rwxr-xr-x", `mode ${r[0]} of ${r[5]}`);
      assertEquals(r[1], "0/0", `owner of ${r[5]}`);
      assertEquals(`${r[3]} ${r[4]}`, "2023-11-14 22:13:20", `mtime of ${r[5]}`);
    }
    assert(rows.some((r) => r[0] === "-rwxr-xr-x" && r[5]!.endsWith("scripts/install.sh")));
    const gz = await Deno.readFile(tarball);
    assertEquals([...gz.subarray(4, 8)], [0, 0, 0, 0], "gzip MTIME");
  } finally {
    if (before === undefined) Deno.env.delete("SOURCE_DATE_EPOCH");
    else Deno.env.set("SOURCE_DATE_EPOCH", before);
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("release: the SBOM names the tarball's hash and every lockfile package with its integrity", async () => {
  const out = await Deno.makeTempDir();
  try {
    const built = await build(out);
    const bom = JSON.parse(await Deno.readTextFile(built.sbom));
    assertEquals(bom.bomFormat, "CycloneDX");
    assertEquals(bom.specVersion, "1.5");
    assert(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(
        bom.serialNumber,
      ),
    );
    assertEquals(bom.metadata.component.hashes, [{ alg: "SHA-256", content: built.sha256 }]);
    const lock = JSON.parse(await Deno.readTextFile(`${ROOT}/package-lock.json`));
    const byPurl = new Map(bom.components.map((c: { purl: string }) => [c.purl, c]));
    const packages = Object.entries(lock.packages).filter(([k]) => k !== "");
    assertEquals(bom.components.length, packages.length);
    for (const [key, entry] of packages as [string, { version: string; integrity: string }][]) {
      const name = key.slice(key.lastIndexOf("node_modules/") + 13);
      const c = byPurl.get(purl(name, entry.version)) as { hashes: unknown } | undefined;
      assert(c !== undefined, `${key} missing from the SBOM`);
      assertEquals(c.hashes, integrityHashes(entry.integrity));
    }
    const deno = bom.components.find((c: { name: string }) => c.name === "deno");
    const version =
      JSON.parse(await Deno.readTextFile(`${ROOT}/package.json`)).devDependencies.deno;
    assertEquals(deno.version, version, "the runtime is in the SBOM at its pinned version");
    assertEquals(deno.type, "platform");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("release: integrity hashes convert npm's base64 to hex, and the purl encodes the scope", () => {
  assertEquals(integrityHashes("sha256-AAEC"), [{ alg: "SHA-256", content: "000102" }]);
  assertEquals(purl("@deno/linux-x64-glibc", "2.9.6"), "pkg:npm/%40deno/linux-x64-glibc@2.9.6");
  let threw = false;
  try {
    integrityHashes("md5-AAEC");
  } catch {
    threw = true;
  }
  assert(threw, "an unknown hash algorithm is refused");
});

Deno.test("release: minisign signs tarball and SBOM; a throwaway key verifies them and a flipped byte fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = await sh("minisign", ["-G", "-W", "-p", `${dir}/k.pub`, "-s", `${dir}/k.sec`]);
    assert(key.ok, key.out);
    const built = await build(`${dir}/out`, `${dir}/k.sec`);
    for (const file of [built.tarball, built.sbom]) {
      const ok = await sh("minisign", ["-V", "-p", `${dir}/k.pub`, "-m", file]);
      assert(ok.ok, ok.out);
    }
    const data = await Deno.readFile(built.tarball);
    data[1000] = data[1000]! ^ 1;
    await Deno.writeFile(built.tarball, data);
    const bad = await sh("minisign", ["-V", "-p", `${dir}/k.pub`, "-m", built.tarball]);
    assertNotEquals(bad.ok, true, "a tampered tarball must not verify");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
