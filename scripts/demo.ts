/**
 * `npm run demo`: the daemon's main job on a built-in demo, with nothing to set up.
 *
 * Stages: generate an attack log with ground truth (gen-logs.mjs) → write a private config
 * (log-only firewall, temp socket/state) → start the real daemon → append the log over a few
 * seconds → print bans as they happen → stop the daemon → compare with the ground truth.
 * Exits 0 when every `mustBan` address was banned and no `neverBan` address was.
 * @module
 */
import { join } from "node:path";
import { daemonRunArgs } from "./_daemon_argv.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FEED_SECONDS = 4;
const QUIET_MS = 1500;

async function findGenerator(): Promise<string> {
  const shared = join(ROOT, "..", "shared", "bench", "gen-logs.mjs");
  try {
    await Deno.stat(shared);
    return shared;
  } catch {
    return join(ROOT, "fixtures", "gen-logs.mjs");
  }
}

async function main(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-demo-" });
  const source = join(dir, "generated.log");
  const truthPath = join(dir, "truth.json");
  const watched = join(dir, "auth.log");
  const gen = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--allow-read",
      `--allow-write=${dir}`,
      await findGenerator(),
      "--service",
      "sshd",
      "--lines",
      "4000",
      "--attackers",
      "15",
      "--seed",
      "42",
      "--format",
      "iso",
      "--span",
      "300",
      "--out",
      source,
      "--truth",
      truthPath,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!gen.success) throw new Error("log generator failed");
  const truth = JSON.parse(await Deno.readTextFile(truthPath)) as {
    mustBan: string[];
    neverBan: string[];
  };

  const config = join(dir, "config.toml");
  await Deno.writeTextFile(
    config,
    `[global]
socket_path = "${join(dir, "fail2zig.sock")}"
state_file = "${join(dir, "state.bin")}"
audit_log = "${join(dir, "audit.log")}"
metrics_bind = ""
firewall = "log-only"

[jails.sshd]
filter = "sshd"
logpath = "${watched}"
maxretry = 5
findtime = "10m"
bantime = "10m"
`,
  );
  await Deno.chmod(config, 0o644);
  await Deno.writeTextFile(watched, "");

  console.log(
    `demo: ${truth.mustBan.length} attackers and ${truth.neverBan.length} innocent addresses in ${source}`,
  );
  const daemon = new Deno.Command(Deno.execPath(), {
    args: daemonRunArgs(config),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const banned = new Set<string>();
  let lastBan = Date.now();
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => ready = r);
  const records = readLines(daemon.stdout, (rec) => {
    if (rec["event"] === "ban" && typeof rec["ip"] === "string") {
      banned.add(rec["ip"]);
      lastBan = Date.now();
      console.log(
        `  BAN   ${String(rec["ip"]).padEnd(40)} jail=${rec["jail"]} for ${
          rec["timeout_s"] ?? "ever"
        } s`,
      );
    }
  });
  const logs = readLines(daemon.stderr, (rec) => {
    if (rec["msg"] === "ready") ready();
    if (rec["level"] === "error" || rec["level"] === "warn") {
      console.error(`  daemon ${rec["level"]}: ${rec["msg"]}`);
    }
  });
  const started = await Promise.race([isReady.then(() => true), daemon.status.then(() => false)]);
  if (!started) {
    await Promise.all([records, logs]);
    console.error("demo: the daemon exited before it was ready");
    return 1;
  }
  const text = await Deno.readTextFile(source);
  const lines = text.split("\n").filter((l) => l.length > 0);
  const chunk = Math.ceil(lines.length / (FEED_SECONDS * 10));
  console.log(`demo: feeding ${lines.length} lines into ${watched} over ${FEED_SECONDS} s`);
  const file = await Deno.open(watched, { append: true });
  for (let i = 0; i < lines.length; i += chunk) {
    await file.write(new TextEncoder().encode(lines.slice(i, i + chunk).join("\n") + "\n"));
    await new Promise((r) => setTimeout(r, 100));
  }
  file.close();
  lastBan = Date.now();
  while (Date.now() - lastBan < QUIET_MS) await new Promise((r) => setTimeout(r, 100));
  daemon.kill("SIGTERM");
  await daemon.status;
  await Promise.all([records, logs]);

  const missed = truth.mustBan.filter((ip) => !banned.has(ip));
  const wrong = truth.neverBan.filter((ip) => banned.has(ip));
  console.log(
    `\ndemo summary: ${banned.size} banned; mustBan ${
      truth.mustBan.length - missed.length
    }/${truth.mustBan.length} banned; ` +
      `neverBan ${wrong.length}/${truth.neverBan.length} banned (decoys included)`,
  );
  if (missed.length > 0) console.log(`  missed: ${missed.join(" ")}`);
  if (wrong.length > 0) console.log(`  wrongly banned: ${wrong.join(" ")}`);
  await Deno.remove(dir, { recursive: true });
  const ok = missed.length === 0 && wrong.length === 0;
  console.log(ok ? "demo: matches the ground truth" : "demo: DOES NOT match the ground truth");
  return ok ? 0 : 1;
}

/** Reads JSON lines from a stream, calling `each` for every object; other lines are echoed. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  each: (rec: Record<string, unknown>) => void,
) {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      try {
        each(JSON.parse(line));
      } catch {
        if (line.trim()) console.log(`  daemon: ${line}`);
      }
    }
  }
}

if (import.meta.main) Deno.exit(await main());
