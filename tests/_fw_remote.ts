/**
 * `RemoteBackend`: a `FirewallBackend` whose calls run in a child process (`_fw_driver.ts`),
 * usually inside a network namespace and optionally without CAP_NET_ADMIN. Errors come back as
 * `FirewallError` with the same backend, operation, errno and message.
 * @module
 */
import {
  type BanEntry,
  type FirewallBackend,
  FirewallError,
  type FirewallHealth,
  type PortScope,
} from "../src/firewall/mod.ts";
import { DENO, type Netns, ROOT } from "./_netns.ts";

/** Driver configuration (see `_fw_driver.ts`). */
export interface DriverConfig {
  kind: "nftables" | "iptables" | "ipset" | "select";
  ipv6Interval?: boolean;
  ipset?: string;
  choice?: "auto" | "nftables" | "iptables" | "ipset" | "log-only";
  onNoBackend?: "fail-closed" | "log-only";
  injectNftablesFailure?: boolean;
  /** Port scopes the backend installs from the start. */
  scopes?: PortScope[];
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string; backend?: string; operation?: string; errno?: number };
}

/** Options of `RemoteBackend.start`. */
export interface RemoteOptions {
  /** Run the driver without CAP_NET_ADMIN (`capsh --drop=cap_net_admin`). @default false */
  dropNetAdmin?: boolean;
  /** Permission set of deno.json the driver runs under. @default "daemon" */
  permissions?: "daemon" | "test";
}

/** A backend served by a child process inside `ns`. */
export class RemoteBackend implements FirewallBackend {
  readonly name: string;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, (r: Reply) => void>();
  #next = 1;
  #stderr = "";

  private constructor(name: string, child: Deno.ChildProcess) {
    this.name = name;
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#read();
    (async () => {
      for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) {
        if (this.#stderr.length < 20_000) this.#stderr += t;
      }
    })().catch(() => {});
  }

  /** Starts the driver in `ns` under the daemon's permission set. */
  static start(ns: Netns, config: DriverConfig, options: RemoteOptions = {}): RemoteBackend {
    const deno = [
      DENO,
      "run",
      "-q",
      "--config",
      `${ROOT}/deno.json`,
      `-P=${options.permissions ?? "daemon"}`,
      `${ROOT}/tests/_fw_driver.ts`,
      JSON.stringify(config),
    ];
    const cmd = options.dropNetAdmin
      ? ["capsh", "--drop=cap_net_admin", "--", "-c", 'exec "$0" "$@"', ...deno]
      : deno;
    return new RemoteBackend(config.kind, ns.spawn(cmd));
  }

  async #read(): Promise<void> {
    let buf = "";
    try {
      for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) !== -1) {
          const reply = JSON.parse(buf.slice(0, nl)) as Reply;
          buf = buf.slice(nl + 1);
          this.#pending.get(reply.id)?.(reply);
          this.#pending.delete(reply.id);
        }
      }
    } finally {
      for (const [id, resolve] of this.#pending) {
        resolve({
          id,
          ok: false,
          error: { name: "Error", message: `driver exited: ${this.#stderr.trim()}` },
        });
      }
      this.#pending.clear();
    }
  }

  /** Sends one request and returns its value (throws the remote error). */
  async call(
    op: string,
    entries: readonly BanEntry[] = [],
    scopes: readonly PortScope[] = [],
  ): Promise<unknown> {
    const id = this.#next++;
    const answer = new Promise<Reply>((resolve) => this.#pending.set(id, resolve));
    const req = JSON.stringify({ id, op, entries, scopes });
    await this.#writer.write(new TextEncoder().encode(req + "\n"));
    const r = await answer;
    if (r.ok) return r.value;
    const e = r.error!;
    if (e.name === "FirewallError") {
      const err = new FirewallError(e.backend ?? "?", e.operation ?? "?", "", e.errno);
      Object.defineProperty(err, "message", { value: e.message });
      throw err;
    }
    throw new Error(e.message);
  }

  init(): Promise<void> {
    return this.call("init").then(() => {});
  }
  ban(entries: readonly BanEntry[]): Promise<void> {
    return this.call("ban", entries).then(() => {});
  }
  unban(entries: readonly BanEntry[]): Promise<void> {
    return this.call("unban", entries).then(() => {});
  }
  list(): Promise<BanEntry[]> {
    return this.call("list") as Promise<BanEntry[]>;
  }
  retainScopes(scopes: readonly PortScope[]): Promise<void> {
    return this.call("retain", [], scopes).then(() => {});
  }
  check(): Promise<FirewallHealth> {
    return this.call("check") as Promise<FirewallHealth>;
  }
  /** Starts a `FirewallGuard` in the driver whose active bans are `entries` (and later bans). */
  guard(entries: readonly BanEntry[]): Promise<void> {
    return this.call("guard", entries).then(() => {});
  }
  /** The driver's guard: successful repairs and degraded. */
  guardState(): Promise<{ repairs: number; degraded: boolean }> {
    return this.call("guard-state") as Promise<{ repairs: number; degraded: boolean }>;
  }
  close(): Promise<void> {
    return this.call("close").then(() => {});
  }

  /** Ends the driver process (after `close()` when the scaffold should go). */
  async stop(): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // already closed
    }
    const t = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, 3000);
    await this.#child.status;
    clearTimeout(t);
  }
}
