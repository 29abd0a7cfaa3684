/**
 * `ignoreself` through the live daemon (log-only backend): failures from this host's own
 * interface address never ban it, while the same failures from another address do.
 */
import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { client, makeConfig, privateGlobal, sshdJail, startDaemon } from "./_daemon.ts";

/** An IPv4 address of one of this host's interfaces other than loopback, if it has one. */
const OWN = Deno.networkInterfaces().find((i) => i.family === "IPv4" && i.name !== "lo")?.address;

function failLine(ip: string, i: number): string {
  return `${new Date().toISOString()} web1 sshd[${
    2000 + i
  }]: Failed password for root from ${ip} port ${41000 + i} ssh2\n`;
}

Deno.test({
  name: "failures from the host's own interface address never ban it (ignoreself on by default)",
  ignore: OWN === undefined, // a host with loopback only has nothing but 127/8 and ::1 to spare
  async fn() {
    const own = OWN!;
    const { dir, config } = await makeConfig((d) =>
      `${privateGlobal(d)}\n${sshdJail(d, 'maxretry = 2\nfindtime = "10m"\nbantime = "10m"')}`
    );
    const sock = join(dir, "fail2zig.sock");
    await Deno.writeTextFile(join(dir, "auth.log"), "");
    const daemon = await startDaemon(dir, config);
    try {
      // the own address's failures first: once the other address is banned, they were seen
      let text = "";
      for (let i = 0; i < 4; i++) text += failLine(own, i);
      for (let i = 4; i < 6; i++) text += failLine("198.51.100.44", i);
      await Deno.writeTextFile(join(dir, "auth.log"), text, { append: true });
      await daemon.waitFor((r) => r["event"] === "ban" && r["ip"] === "198.51.100.44");
      const banned = await client(sock, "banned", own, "198.51.100.44");
      deepEqual(banned.json, {
        banned: [{ ip: own, jails: [] }, { ip: "198.51.100.44", jails: ["sshd"] }],
      });
      equal((await client(sock, "status", "sshd")).json?.["bans_total"], 1);
      const byHand = await client(sock, "ban", own, "--jail", "sshd");
      equal(byHand.code, 1);
      equal((byHand.json?.["error"] as Record<string, unknown>)?.["code"], "bad_request");
    } finally {
      equal(await daemon.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
