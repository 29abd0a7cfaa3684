/**
 * Connecting to the fleet's NATS servers, for the daemon's link and `fail2zig fleet unban`: one
 * server at a time, in random order (as the NATS client itself picks), the first that answers
 * wins. Over TLS, each server's certificate is checked against the host of its own URL, a name or
 * an IP address. The NATS client alone does not do that for an address: it upgrades the plain
 * connection to TLS without a server name, and Deno's `node:tls` then checks the certificate
 * against `localhost`, so a certificate the fleet's CA issued for the address was refused and one
 * it issued for `localhost` was accepted from any server.
 *
 * The sockets are the NATS client's own, with one change ({@link QuietTransport}): a socket the
 * client has closed keeps a listener for `error`. When a server refuses the login it resets the
 * connection; under Deno the read already in flight then reports `ECONNRESET` on the socket the
 * client had closed and stripped of its listeners, and an `error` event nobody listens to is an
 * uncaught exception: `fleet unban` printed it after its own message (5 runs of 8), and a daemon
 * whose fleet user was removed died within a few of its link's attempts.
 * @module
 */
import {
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
  NatsConnectionImpl,
  setTransportFactory,
} from "@nats-io/transport-node";
import { nodeResolveHost, NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";
import type { Socket } from "node:net";
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

/** Connects as `@nats-io/transport-node`'s `connect()` does, over {@link QuietTransport}. */
function connect(options: ConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new QuietTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}

/** The client's transport; each socket it opens or upgrades keeps an `error` listener for good. */
class QuietTransport extends NodeTransport {
  override async dial(hp: { hostname: string; port: number }): Promise<Socket> {
    return keepErrorListener(await super.dial(hp));
  }

  override async tlsFirst(hp: { hostname: string; port: number }) {
    return keepErrorListener(await super.tlsFirst(hp));
  }

  override async startTLS() {
    return keepErrorListener(await super.startTLS());
  }
}

/** The transport strips its sockets with `removeAllListeners()`; this listener comes back each time. */
function keepErrorListener<S extends Socket>(socket: S): S {
  const ignore = () => {}; // the transport's own listeners, while there are any, see the error
  const removeAll = socket.removeAllListeners.bind(socket);
  socket.removeAllListeners = (...event: [] | [string | symbol]) => {
    removeAll(...event); // with no argument (not `undefined`): every event's
    if (event.length === 0 || event[0] === "error") socket.on("error", ignore);
    return socket;
  };
  socket.on("error", ignore);
  return socket;
}
