/**
 * Connecting to the fleet's NATS servers, for the daemon's link and `fail2zig fleet unban`: one
 * server at a time, in random order (as the NATS client itself picks), the first that answers
 * wins. Over TLS, each server's certificate is checked against the host of its own URL, a name or
 * an IP address. The NATS client alone does not do that for an address: it upgrades the plain
 * connection to TLS without a server name, and Deno's `node:tls` then checks the certificate
 * against `localhost`, so a certificate the fleet's CA issued for the address was refused and one
 * it issued for `localhost` was accepted from any server.
 * @module
 */
import {
  connect,
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
} from "@nats-io/transport-node";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type { FleetConfig } from "../config/mod.ts";

/** Who connects: a host's own credentials, or the operator's; empty strings: not set. */
export interface NatsAuth {
  /** NATS user (with `password`). */
  readonly user: string;
  /** See `user`. */
  readonly password: string;
  /** NATS token. */
  readonly token: string;
  /** A NATS credentials file (JWT and NKey seed), read at each connect. */
  readonly creds: string;
}

/** One configured server as the NATS client takes it, IPv6 addresses in brackets. */
export function serverUrl(u: FleetConfig["urls"][number]): string {
  return `${u.scheme}://${u.host.includes(":") ? `[${u.host}]` : u.host}:${u.port}`;
}

/**
 * Connects to the first of `config.urls` (in random order) that answers, with `auth` and
 * `[fleet]`'s TLS files; `options` are passed on (name, timeouts). Throws the last failure.
 */
export async function connectFleet(
  config: FleetConfig,
  auth: NatsAuth,
  options: Omit<ConnectionOptions, "servers" | "tls">,
): Promise<NatsConnection> {
  const tls = config.urls.some((u) => u.scheme === "tls") || config.tlsCa !== "" ||
    config.tlsCert !== "";
  const urls = [...config.urls];
  for (let i = urls.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [urls[i], urls[j]] = [urls[j]!, urls[i]!];
  }
  let failure: unknown = new Error("no [fleet] url");
  for (const u of urls) {
    try {
      return await connect({
        ...options,
        servers: [serverUrl(u)],
        ...(auth.user === "" ? {} : { user: auth.user, pass: auth.password }),
        ...(auth.token === "" ? {} : { token: auth.token }),
        ...(auth.creds === ""
          ? {}
          : { authenticator: credsAuthenticator(() => Deno.readFileSync(auth.creds)) }),
        ...(tls ? { tls: tlsOptions(config, u.host) } : {}),
      });
    } catch (e) {
      failure = e;
    }
  }
  throw failure;
}

/** The client's TLS options, the certificate checked against `host` (passed on to `node:tls`). */
function tlsOptions(config: FleetConfig, host: string): NonNullable<ConnectionOptions["tls"]> {
  const check = {
    checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
  };
  return {
    ...(config.tlsCa === "" ? {} : { caFile: config.tlsCa }),
    ...(config.tlsCert === "" ? {} : { certFile: config.tlsCert, keyFile: config.tlsKey }),
    ...check,
  };
}
