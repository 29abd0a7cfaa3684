import { deepEqual, equal, match, throws } from "node:assert/strict";
import { IniTree, InterpolationError, parseIni, readFiles, readTree } from "./_ini.ts";
import { memoryFileReader } from "./fs.ts";

function entries(m: Map<string, string> | undefined) {
  return Object.fromEntries(m ?? []);
}

Deno.test("parseIni() reads sections, = and : separators, and lower-cases key names", () => {
  const f = parseIni("[DEFAULT]\nBanTime = 1h\n[sshd]\nenabled: true\nPort=ssh\n", "x.conf");
  deepEqual(entries(f.defaults), { bantime: "1h" });
  deepEqual(entries(f.sections.get("sshd")), { enabled: "true", port: "ssh" });
  deepEqual(f.problems, []);
});

Deno.test("parseIni() joins indented continuation lines and keeps empty lines inside a value", () => {
  const f = parseIni(
    "[a]\nlogpath = /var/log/one.log\n    /var/log/two.log\n\n\t/var/log/three.log\nnext = 1\n\n",
    "x",
  );
  deepEqual(entries(f.sections.get("a")), {
    logpath: "/var/log/one.log\n/var/log/two.log\n\n/var/log/three.log",
    next: "1",
  });
});

Deno.test("parseIni() drops # and ; comment lines (even inside a value) and ; after space", () => {
  const f = parseIni(
    [
      "# heading",
      "; another",
      "[a]",
      "x = 1 ; inline",
      "y = a;b",
      "z = keep # hash is not inline",
      "list = one",
      "   # a comment line does not end the value",
      "   two",
      "  ; nor does this one",
      "   three",
    ].join("\n"),
    "x",
  );
  deepEqual(entries(f.sections.get("a")), {
    x: "1",
    y: "a;b",
    z: "keep # hash is not inline",
    list: "one\ntwo\nthree",
  });
});

Deno.test("parseIni() merges a section repeated in one file and reports lines it cannot read", () => {
  const f = parseIni("stray = 1\n[a]\nx = 1\njust words\n[a]\ny = 2\n", "f.conf");
  deepEqual(entries(f.sections.get("a")), { x: "1", y: "2" });
  equal(f.problems.length, 2);
  match(f.problems[0]!, /^f\.conf:1: expected a \[section\] header/);
  match(f.problems[1]!, /^f\.conf:4: expected "key = value", found "just words"/);
});

function tree(...files: string[]): IniTree {
  const t = new IniTree();
  files.forEach((text, i) => t.merge(parseIni(text, `f${i}`)));
  return t;
}

Deno.test("IniTree.get() interpolates %(name)s from the section, then [DEFAULT], with %% as %", () => {
  const t = tree(
    "[DEFAULT]\nlogdir = /var/log\nauth = %(logdir)s/auth.log\nmode = normal\n" +
      "[sshd]\nlogpath = %(auth)s\nfilter = %(__name__)s[mode=%(mode)s]\nmode = aggressive\n" +
      "pct = 100%%\n",
  );
  equal(t.get("sshd", "logpath"), "/var/log/auth.log");
  equal(t.get("sshd", "filter"), "sshd[mode=aggressive]");
  equal(t.get("DEFAULT", "mode"), "normal");
  equal(t.get("sshd", "pct"), "100%");
  equal(t.get("sshd", "missing"), undefined);
});

Deno.test("IniTree.get() resolves references in [DEFAULT] values in the asking section", () => {
  const t = tree(
    "[DEFAULT]\nfilter = %(__name__)s\nlog = /l/%(svc)s.log\n[a]\nsvc = one\n[b]\nsvc = two\n",
  );
  equal(t.get("a", "filter"), "a");
  equal(t.get("a", "log"), "/l/one.log");
  equal(t.get("b", "log"), "/l/two.log");
});

Deno.test("IniTree.get() explains a missing name, bad % syntax and a reference loop", () => {
  const t = tree("[a]\nx = %(nope)s\ny = 50%\nloop = %(loop)s\n");
  throws(
    () => t.get("a", "x"),
    (e) => e instanceof InterpolationError && /%\(nope\)s is not defined/.test(e.message),
  );
  throws(() => t.get("a", "y"), /expected '%%' or '%\(name\)s', found "%"/);
  throws(() => t.get("a", "loop"), /nested deeper than 10 levels/);
});

Deno.test("IniTree: later files win key by key; %(known/x)s is the value they replaced", () => {
  const t = tree(
    "[DEFAULT]\nbantime = 10m\nignoreip = 127.0.0.1\n[sshd]\nport = ssh\nignoreip = 10.0.0.1\n",
    "[DEFAULT]\nbantime = 1h\n[sshd]\nignoreip = %(known/ignoreip)s 10.0.0.2\n[new]\nx = 1\n",
  );
  equal(t.get("sshd", "bantime"), "1h");
  equal(t.get("sshd", "port"), "ssh");
  equal(t.get("sshd", "ignoreip"), "10.0.0.1 10.0.0.2");
  deepEqual(t.sectionNames(), ["sshd", "new"]);
  equal(t.hasOwn("sshd", "bantime"), false);
  equal(t.hasOwn("sshd", "port"), true);
});

Deno.test("IniTree.get() reads %(default/x)s and %(section/x)s", () => {
  const t = tree(
    "[DEFAULT]\nbackend = auto\nb2 = %(default/backend)s\n[a]\nbackend = systemd\nv = %(b/w)s\n[b]\nw = 7\n",
  );
  equal(t.get("a", "b2"), "auto");
  equal(t.get("a", "v"), "7");
});

Deno.test("readFiles() follows [INCLUDES] before and after, and a .local sibling, in fail2ban's order", async () => {
  const fs = memoryFileReader({
    "/c/jail.conf":
      "[INCLUDES]\nbefore = paths-debian.conf\nafter = extra.conf\n[DEFAULT]\nv = jail\n",
    "/c/paths-debian.conf":
      "[INCLUDES]\nbefore = paths-common.conf\nafter = paths-overrides.local\n[DEFAULT]\nv = debian\n",
    "/c/paths-common.conf":
      "[INCLUDES]\nafter = paths-overrides.local\n[DEFAULT]\nv = common\nw = common\n",
    "/c/paths-debian.local": "[DEFAULT]\nw = debian-local\n",
    "/c/extra.conf": "[DEFAULT]\nv = extra\n",
  });
  const t = await readFiles(["/c/jail.conf"], fs);
  deepEqual(t.files, [
    "/c/paths-common.conf",
    "/c/paths-debian.conf",
    "/c/paths-debian.local",
    "/c/jail.conf",
    "/c/extra.conf",
  ]);
  equal(t.get("DEFAULT", "v"), "extra");
  equal(t.get("DEFAULT", "w"), "debian-local");
});

Deno.test("readFiles() stops an include loop instead of recursing forever", async () => {
  const fs = memoryFileReader({
    "/c/a.conf": "[INCLUDES]\nbefore = b.conf\n[DEFAULT]\nx = a\n",
    "/c/b.conf": "[INCLUDES]\nbefore = a.conf\n[DEFAULT]\nx = b\n",
  });
  deepEqual((await readFiles(["/c/a.conf"], fs)).files, ["/c/b.conf", "/c/a.conf"]);
});

Deno.test("readTree() reads jail.conf, jail.d/*.conf, jail.local, jail.d/*.local: the last wins", async () => {
  const fs = memoryFileReader({
    "/f/jail.conf": "[sshd]\na = conf\nb = conf\nc = conf\nd = conf\n",
    "/f/jail.d/20-b.conf": "[sshd]\nb = d-conf-20\nc = d-conf-20\n",
    "/f/jail.d/10-a.conf": "[sshd]\nb = d-conf-10\n",
    "/f/jail.local": "[sshd]\nc = local\nd = local\n",
    "/f/jail.d/x.local": "[sshd]\nd = d-local\n",
    "/f/jail.d/.hidden.conf": "[sshd]\na = hidden\n",
  });
  const t = await readTree("/f", "jail", fs);
  deepEqual(t.files, [
    "/f/jail.conf",
    "/f/jail.d/10-a.conf",
    "/f/jail.d/20-b.conf",
    "/f/jail.local",
    "/f/jail.d/x.local",
  ]);
  deepEqual(["a", "b", "c", "d"].map((k) => t.get("sshd", k)), [
    "conf",
    "d-conf-20",
    "local",
    "d-local",
  ]);
});
