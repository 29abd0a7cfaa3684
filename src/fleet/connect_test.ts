/**
 * connectFleet() against a nats-server that refuses the login: each attempt fails with the
 * server's reason and none leaves an uncaught socket error behind (the daemon's link retries such
 * a server for as long as it runs; before QuietTransport one of the first few attempts killed it).
 * @module
 */
import { equal } from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import { haveNats, startNats } from "../../tests/_nats.ts";
import { connectFleet } from "./connect.ts";

Deno.test({
  name: "connectFleet: 30 logins refused in a row, each rejected, no uncaught ECONNRESET",
  ignore: !haveNats,
  async fn() {
    const server = await startNats({ config: `authorization { token: "right" }` });
    try {
      const config = parseConfig(
        `[jails.sshd]\nfilter = "sshd"\nlogpath = "/x"\n[fleet]\nurl = "${server.url}"\ntoken = "wrong"\n`,
        "c.toml",
      ).fleet!;
      const reasons = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const nc = await connectFleet(config, config, { reconnect: false, timeout: 5_000 })
          .catch((e: Error) => (reasons.add(e.message), null));
        equal(nc, null, "the server refused the login");
        // The reset arrives as a socket event after the rejection: let it (an uncaught `error`
        // event fails this test), then go on as the link's backoff does.
        await new Promise((r) => setTimeout(r, 20));
      }
      equal([...reasons].join(), "Authorization Violation");
    } finally {
      await server.stop();
    }
  },
});
