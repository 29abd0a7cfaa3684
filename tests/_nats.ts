/**
 * A real `nats-server` (Debian's, JetStream on) for tests: a random loopback port (or the given
 * address, inside a namespace), its store in a temp dir, an optional config text (users and
 * permissions). `restart()` kills it with SIGKILL and starts it again on the same port and store.
 * @module
 */
import { join } from "node:path";
import type { Netns } from "./_netns.ts";

/** Where Debian installs it. */
export const NATS_SERVER = "/usr/sbin/nats-server";
/** True when nats-server is installed (.ci/run installs it). */
export const haveNats = (() => {
  try {
    return Deno.statSync(NATS_SERVER).isFile;
  } catch {
    return false;
  }
})();

/** A running server. */
export interface NatsServer {
  readonly host: string;
  readonly port: number;
  /** `nats://HOST:PORT`. */
  readonly url: string;
  readonly dir: string;
  /** Kills it (SIGKILL: no clean shutdown) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Kills it; `start()` brings it back. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (bound and released; a race with another binder is unlikely). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts nats-server with JetStream. `config` is extra server config text (e.g. `authorization`
 * with users); `ns` runs it inside a namespace, listening on `host`. `file`: a whole config file
 * of the caller's, run as it is (its listen address must be `host`:`port`).
 */
export async function startNats(
  opts: { config?: string; ns?: Netns; host?: string; port?: number; file?: string } = {},
): Promise<NatsServer> {
  const dir = await Deno.makeTempDir({ prefix: "fail2zig-nats-" });
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? freePort();
  const conf = opts.file ?? join(dir, "server.conf");
  if (opts.file === undefined) {
    await Deno.writeTextFile(
      conf,
      `listen: "${host}:${port}"\njetstream { store_dir: "${join(dir, "js")}" }\n${
        opts.config ?? ""
      }\n`,
    );
  }
  let child: Deno.ChildProcess | null = null;
  const start = async () => {
    const argv = [...(opts.ns?.prefix() ?? []), NATS_SERVER, "-c", conf];
    child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Ready when it says so on stderr (an event, not a sleep).
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const deadline = setTimeout(() => child?.kill("SIGKILL"), 15_000);
    try {
      while (!/Server is ready/.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`nats-server exited before ready: ${text.slice(-500)}`);
        text += value;
      }
    } finally {
      clearTimeout(deadline);
    }
    // Keep draining stderr so the server never blocks on a full pipe.
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* killed */ }
    })();
  };
  const kill = async () => {
    const c = child;
    child = null;
    if (c === null) return;
    try {
      c.kill("SIGKILL");
    } catch { /* gone */ }
    await c.status;
  };
  await start();
  return {
    host,
    port,
    url: `nats://${host}:${port}`,
    dir,
    start,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    stop: async () => {
      await kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** True when openssl is installed (.ci/run installs it), for the TLS tests. */
export const haveOpenssl = (() => {
  try {
    return Deno.statSync("/usr/bin/openssl").isFile;
  } catch {
    return false;
  }
})();

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A test CA in `dir`: `ca.pem`, `ca-key.pem`. */
export async function makeCa(dir: string): Promise<void> {
  const f = (n: string) => join(dir, n);
  const subject = ["-subj", "/CN=fail2zig test CA", "-days", "2"];
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    f("ca-key.pem"),
    "-out",
    f("ca.pem"),
    ...subject,
  ]);
}

/**
 * A server certificate signed by `dir`'s CA (makeCa) whose only subjectAltName is `san`
 * (`IP:127.0.0.1`, `DNS:localhost`): `NAME-cert.pem`, `NAME-key.pem`.
 */
export async function makeServerCert(dir: string, name: string, san: string): Promise<void> {
  const f = (n: string) => join(dir, n);
  const [key, csr, ext] = [f(`${name}-key.pem`), f(`${name}.csr`), f(`${name}.ext`)];
  await openssl(["req", ...EC_KEY, "-keyout", key, "-out", csr, "-subj", `/CN=${name}`]);
  await Deno.writeTextFile(ext, `subjectAltName=${san}\n`);
  const ca = ["-CA", f("ca.pem"), "-CAkey", f("ca-key.pem"), "-CAcreateserial"];
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    ...ca,
    "-out",
    f(`${name}-cert.pem`),
    "-days",
    "2",
    "-extfile",
    ext,
  ]);
}
