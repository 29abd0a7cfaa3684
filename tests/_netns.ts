/**
 * Network namespaces for tests: create and destroy them, wire a small LAN, run commands inside,
 * start a TCP listener, probe TCP connects. Nothing here touches the host's own network: every
 * interface is created inside a namespace (`ip -n NS link add … peer … netns OTHER`), and every
 * address is a documentation address that exists only inside the namespaces.
 *
 * Typical use (always destroy in `finally`):
 * ```ts
 * const lan = await createLan("nft");
 * try {
 *   const srv = await startTcpListener(lan.server, 2222);
 *   assert(await canConnect(lan.attacker, lan.addr.server4, 2222));
 * } finally {
 *   await lan.destroy();
 * }
 * ```
 * @module
 */

/** True when the tests run as root (namespaces and firewalls need it). */
export const isRoot = Deno.uid() === 0;
/** The deno binary running the tests (children run the same version). */
export const DENO = Deno.execPath();
/** Project root (for `--config`). */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** What a command printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (check `code`). */
export async function run(
  cmd: readonly string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const [bin, ...args] = cmd;
  const child = new Deno.Command(bin!, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a command and throws (with its stderr) unless it exits 0. */
export async function runOk(
  cmd: readonly string[],
  options: { stdin?: string } = {},
): Promise<string> {
  const r = await run(cmd, options);
  if (r.code !== 0) {
    throw new Error(
      `expected \`${cmd.join(" ")}\` to succeed, it exited ${r.code}: ${r.stderr.trim()}`,
    );
  }
  return r.stdout;
}

let counter = 0;
/** A namespace name unique to this process: `f2z-TAG-PID-N` (≤ 40 characters). */
export function uniqueName(tag: string): string {
  counter++;
  return `f2z-${tag.slice(0, 12)}-${Deno.pid}-${counter}`;
}

/** One network namespace. */
export class Netns {
  readonly name: string;
  #children = new Set<Deno.ChildProcess>();

  private constructor(name: string) {
    this.name = name;
  }

  /** `ip netns add NAME` and brings `lo` up. */
  static async create(name: string): Promise<Netns> {
    await runOk(["ip", "netns", "add", name]);
    const ns = new Netns(name);
    try {
      await runOk(["ip", "-n", name, "link", "set", "lo", "up"]);
    } catch (e) {
      await ns.destroy();
      throw e;
    }
    return ns;
  }

  /** The argv prefix that runs a command inside the namespace. */
  prefix(): string[] {
    return ["ip", "netns", "exec", this.name];
  }

  /** Runs `cmd` inside the namespace to completion. */
  exec(cmd: readonly string[], options: { stdin?: string } = {}): Promise<RunResult> {
    return run([...this.prefix(), ...cmd], options);
  }

  /** Like `exec`, throwing unless it exits 0; returns stdout. */
  execOk(cmd: readonly string[], options: { stdin?: string } = {}): Promise<string> {
    return runOk([...this.prefix(), ...cmd], options);
  }

  /** Starts a long-running process inside the namespace; `destroy()` kills it if still running. */
  spawn(cmd: readonly string[], options: Partial<Deno.CommandOptions> = {}): Deno.ChildProcess {
    const [bin, ...args] = [...this.prefix(), ...cmd];
    const child = new Deno.Command(bin!, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      ...options,
    }).spawn();
    this.#children.add(child);
    child.status.finally(() => this.#children.delete(child));
    return child;
  }

  /** Kills what runs inside (children started here, then any pid left), deletes the namespace. */
  async destroy(): Promise<void> {
    for (const c of this.#children) {
      try {
        c.kill("SIGKILL");
      } catch {
        // already gone
      }
      await c.status.catch(() => {});
    }
    const pids = await run(["ip", "netns", "pids", this.name]);
    for (const p of pids.stdout.split(/\s+/).filter((x) => /^\d+$/.test(x))) {
      try {
        Deno.kill(Number(p), "SIGKILL");
      } catch {
        // already gone
      }
    }
    await run(["ip", "netns", "del", this.name]);
  }
}

/** Addresses of a LAN (documentation ranges, only inside the namespaces). */
export const LAN_ADDR = {
  server4: "192.0.2.1",
  attacker4: "192.0.2.2",
  bystander4: "192.0.2.3",
  server6: "2001:db8:f2::1",
  attacker6: "2001:db8:f2::2",
  bystander6: "2001:db8:f2::3",
} as const;

/** Three namespaces on one bridge: a server, an attacker and a bystander. */
export interface Lan {
  readonly server: Netns;
  readonly attacker: Netns;
  readonly bystander: Netns;
  readonly addr: typeof LAN_ADDR;
  /** Destroys all three (safe to call twice). */
  destroy(): Promise<void>;
}

/** Adds `ip addr add CIDR dev DEV` in `ns` for each of `cidrs` (IPv6 ones without DAD). */
async function addAddresses(ns: Netns, dev: string, cidrs: readonly string[]): Promise<void> {
  for (const cidr of cidrs) {
    const nodad = cidr.includes(":") ? ["nodad"] : [];
    await runOk(["ip", "-n", ns.name, "addr", "add", cidr, "dev", dev, ...nodad]);
  }
}

/** Creates bridge `br0` in `hub`, up, with the addresses `cidrs`. */
export async function addBridge(hub: Netns, cidrs: readonly string[]): Promise<void> {
  await runOk(["ip", "-n", hub.name, "link", "add", "br0", "type", "bridge"]);
  await runOk(["ip", "-n", hub.name, "link", "set", "br0", "up"]);
  await addAddresses(hub, "br0", cidrs);
}

/**
 * Connects `ns` to `hub`'s bridge `br0` through a veth pair: `port` on the bridge, `eth0` in
 * `ns` with the addresses `cidrs`, both up.
 */
export async function attachToBridge(
  hub: Netns,
  ns: Netns,
  port: string,
  cidrs: readonly string[],
): Promise<void> {
  const veth = ["type", "veth", "peer", "name", "eth0", "netns", ns.name];
  await runOk(["ip", "-n", hub.name, "link", "add", port, ...veth]);
  await runOk(["ip", "-n", hub.name, "link", "set", port, "master", "br0", "up"]);
  await addAddresses(ns, "eth0", cidrs);
  await runOk(["ip", "-n", ns.name, "link", "set", "eth0", "up"]);
}

/**
 * Creates server, attacker and bystander namespaces. The server owns a bridge `br0` holding its
 * addresses; attacker and bystander each get `eth0`, the far end of a veth pair whose near end is
 * a port of `br0`. IPv4 /24 and IPv6 /64 (no DAD, so addresses work at once).
 */
export async function createLan(tag: string): Promise<Lan> {
  const made: Netns[] = [];
  const destroy = async () => {
    for (const ns of made.splice(0).reverse()) await ns.destroy();
  };
  try {
    const server = await Netns.create(uniqueName(`${tag}-s`));
    made.push(server);
    const attacker = await Netns.create(uniqueName(`${tag}-a`));
    made.push(attacker);
    const bystander = await Netns.create(uniqueName(`${tag}-b`));
    made.push(bystander);
    await addBridge(server, [`${LAN_ADDR.server4}/24`, `${LAN_ADDR.server6}/64`]);
    const peers: [Netns, string, string, string][] = [
      [attacker, "vatt", LAN_ADDR.attacker4, LAN_ADDR.attacker6],
      [bystander, "vbys", LAN_ADDR.bystander4, LAN_ADDR.bystander6],
    ];
    for (const [ns, port, a4, a6] of peers) {
      await attachToBridge(server, ns, port, [`${a4}/24`, `${a6}/64`]);
    }
    return { server, attacker, bystander, addr: LAN_ADDR, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}

/** A TCP listener running inside a namespace. */
export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

const LISTENER_SOURCE = `
const port = Number(Deno.args[0]);
const l = Deno.listen({ hostname: "::", port });
console.log("ready");
for await (const c of l) {
  c.write(new TextEncoder().encode("hello\\n")).finally(() => c.close()).catch(() => {});
}
`;

/** Starts a dual-stack TCP listener on `port` in `ns` (answers "hello" and closes). */
export async function startTcpListener(ns: Netns, port: number): Promise<Listener> {
  const child = ns.spawn([
    DENO,
    "eval",
    "--no-config",
    "--allow-net",
    LISTENER_SOURCE,
    String(port),
  ], {
    stdin: "null",
    stderr: "null",
  });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  let seen = "";
  try {
    while (!seen.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`TCP listener in ${ns.name} exited before it was ready`);
      seen += value;
    }
  } finally {
    clearTimeout(timer);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return {
    port,
    close: async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}

/**
 * True when a TCP connection from `ns` to `host:port` completes within `timeoutMs` (a dropped SYN
 * times out, a refused one fails at once). Uses bash's /dev/tcp, so no client tool is needed.
 */
export async function canConnect(
  ns: Netns,
  host: string,
  port: number,
  timeoutMs = 1000,
): Promise<boolean> {
  const secs = (timeoutMs / 1000).toFixed(3);
  const r = await ns.exec(["timeout", secs, "bash", "-c", `exec 3<>/dev/tcp/${host}/${port}`]);
  return r.code === 0;
}
