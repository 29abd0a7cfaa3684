import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { PathPattern, readRoots } from "./_glob.ts";

Deno.test("PathPattern matches a literal path only", () => {
  const p = new PathPattern("/var/log/auth.log");
  ok(p.literal);
  ok(p.matches("/var/log/auth.log"));
  ok(!p.matches("/var/log/auth.log.1"));
  ok(!p.matches("/var/log/sub/auth.log"));
  strictEqual(p.readRoot, "/var/log");
});

Deno.test("PathPattern wildcards stay inside one component and skip hidden names", () => {
  const p = new PathPattern("/srv/*/logs/access-?.log");
  ok(!p.literal);
  ok(p.matches("/srv/a/logs/access-1.log"));
  ok(!p.matches("/srv/a/b/logs/access-1.log"));
  ok(!p.matches("/srv/.hidden/logs/access-1.log"));
  ok(!p.matches("/srv/a/logs/access-12.log"));
  strictEqual(p.readRoot, "/srv");
  const q = new PathPattern("/var/log/nginx/*.log");
  ok(q.matches("/var/log/nginx/error.log"));
  ok(!q.matches("/var/log/nginx/.error.log"));
  ok(!q.matches("/var/log/nginx/error.log.1"));
});

Deno.test("PathPattern supports character classes with negation and escapes regex syntax", () => {
  const p = new PathPattern("/l/app[0-9].(x)+[!a].log");
  ok(p.matches("/l/app7.(x)+b.log"));
  ok(!p.matches("/l/app7.(x)+a.log"));
  ok(!p.matches("/l/appx.(x)+b.log"));
});

Deno.test("PathPattern rejects relative paths, dot components and directories", () => {
  throws(() => new PathPattern("var/log/x"), /absolute/);
  throws(() => new PathPattern("/var/../etc/shadow"), /'\.\.'/);
  throws(() => new PathPattern("/var/log/"), /naming a file/);
});

Deno.test("PathPattern.directories expands wildcard directories through the lister", () => {
  const tree: Record<string, string[]> = { "/srv": ["a", "b", ".c"], "/srv/a": ["logs"] };
  const p = new PathPattern("/srv/*/logs/x.log");
  deepStrictEqual(p.directories((d) => tree[d] ?? null), ["/srv/a/logs", "/srv/b/logs"]);
});

Deno.test("readRoots keeps the outermost directories a reader needs", () => {
  deepStrictEqual(
    readRoots(["/var/log/auth.log", "/var/log/nginx/*.log", "/srv/*/x.log", "/var/log/a/b.log"]),
    ["/srv", "/var/log"],
  );
});
