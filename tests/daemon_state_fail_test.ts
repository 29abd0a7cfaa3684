/**
 * Saves that keep failing (a full disk, here a directory in the place of `state.bin`) are logged
 * once, not once per retry, and `status` says degraded until a save works again.
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { makeConfig, privateGlobal, request, sshdJail, startDaemon } from "./_daemon.ts";
import { Netns, uniqueName } from "./_netns.ts";
import { waitUntil } from "./_wait.ts";

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
  const state = join(dir, "state.bin");
  const daemon = await startDaemon(dir, config, { prefix: ns.prefix() }).catch(async (e) => {
    await ns.destroy();
    throw e;
  });
  // Each save writes state.bin.tmp anew and renames it over state.bin: counting its creations
  // counts the attempts.
  const watcher = Deno.watchFs(dir, { recursive: false });
  let attempts = 0;
  const watching = (async () => {
    for await (const ev of watcher) {
      if (ev.kind === "create" && ev.paths.some((p) => p.endsWith("state.bin.tmp"))) attempts++;
    }
  })();
  try {
    equal((await request(sock, { v: 1, cmd: "status" }))["degraded"], false);
    // A directory in the state file's place: nothing saved yet, so none is there; every save
    // writes its temporary file and then fails to rename it.
    Deno.mkdirSync(join(state, "blocker"), { recursive: true });
    await request(sock, { v: 1, cmd: "ban", ip: "203.0.113.9", jail: "sshd" });
    await daemon.waitFor((r) => r["msg"] === "state save failed; retrying");
    equal((await request(sock, { v: 1, cmd: "status" }))["degraded"], true);
    // Retries (10 ms apart) go on: the third attempt started, so two of them failed.
    await waitUntil(() => attempts >= 3, "three attempts to save", { stepMs: 10 });
    // Moved away in one step: the next retry's rename then succeeds.
    Deno.renameSync(state, join(dir, "blocker.old"));
    const back = await daemon.waitFor((r) => r["msg"] === "state save works again");
    // Every failed retry (10 ms apart) but the first stayed silent.
    ok((back["failed_saves"] as number) > 1, JSON.stringify(back));
    const logged = daemon.err.filter((r) => r["msg"] === "state save failed; retrying");
    equal(logged.length, 1, JSON.stringify(logged));
    equal((await request(sock, { v: 1, cmd: "status" }))["degraded"], false);
  } finally {
    watcher.close();
    await watching;
    const code = await daemon.stop();
    await ns.destroy();
    equal(code, 0);
    await Deno.remove(dir, { recursive: true });
  }
});
