/**
 * Saves that keep failing (a full disk, here a `state.bin.tmp` that cannot be replaced) are logged
 * once, not once per retry, and `status` says degraded until a save works again.
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { makeConfig, privateGlobal, request, sshdJail, startDaemon } from "./_daemon.ts";
import { Netns, uniqueName } from "./_netns.ts";

Deno.test("failing state saves are logged once and make status degraded until one works again", async () => {
  // A real backend (in its own network namespace): log-only is degraded from the start.
  const { dir, config } = await makeConfig((d) =>
    `${
      privateGlobal(d, 'save_interval = "10ms"').replace(
        'firewall = "log-only"',
        'firewall = "nftables"',
      )
    }\n${sshdJail(d)}`
  );
  const ns = await Netns.create(uniqueName("statefail"));
  await Deno.writeTextFile(join(dir, "auth.log"), "");
  const sock = join(dir, "fail2zig.sock");
  const tmp = join(dir, "state.bin.tmp");
  const daemon = await startDaemon(dir, config, { prefix: ns.prefix() }).catch(async (e) => {
    await ns.destroy();
    throw e;
  });
  try {
    equal((await request(sock, { v: 1, cmd: "status" }))["degraded"], false);
    Deno.mkdirSync(join(tmp, "blocker"), { recursive: true }); // every save now fails
    await request(sock, { v: 1, cmd: "ban", ip: "203.0.113.9", jail: "sshd" });
    await daemon.waitFor((r) => r["msg"] === "state save failed; retrying");
    equal((await request(sock, { v: 1, cmd: "status" }))["degraded"], true);
    // Let retries (10 ms apart) go on; `failed_saves` below says how many there were.
    await new Promise((r) => setTimeout(r, 300));
    // Moved away in one step: removing it in place races the daemon's own retries, which remove
    // the directory once it is empty and create the file in its place.
    Deno.renameSync(tmp, join(dir, "blocker.old"));
    const back = await daemon.waitFor((r) => r["msg"] === "state save works again");
    // Every failed retry (10 ms apart) but the first stayed silent.
    ok((back["failed_saves"] as number) > 1, JSON.stringify(back));
    const logged = daemon.err.filter((r) => r["msg"] === "state save failed; retrying");
    equal(logged.length, 1, JSON.stringify(logged));
    equal((await request(sock, { v: 1, cmd: "status" }))["degraded"], false);
  } finally {
    const code = await daemon.stop();
    await ns.destroy();
    equal(code, 0);
    await Deno.remove(dir, { recursive: true });
  }
});
