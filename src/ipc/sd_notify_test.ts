/** sd_notify against a notify socket of our own (path and abstract namespace). */
import { equal, match } from "node:assert/strict";
import { bindDatagramListener } from "../ffi/unix.ts";
import { notifyReady, notifyReloading, notifyStopping, sdNotify } from "./mod.ts";

const dec = new TextDecoder();

Deno.test("sd_notify sends READY, RELOADING with MONOTONIC_USEC, and STOPPING to NOTIFY_SOCKET", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-notify-" });
  const listener = bindDatagramListener(`${dir}/notify`);
  const saved = Deno.env.get("NOTIFY_SOCKET");
  try {
    Deno.env.set("NOTIFY_SOCKET", listener.path);
    equal(notifyReady("3 jails"), true);
    equal(dec.decode((await listener.receive(2000))!), "READY=1\nSTATUS=3 jails");
    equal(notifyReloading(), true);
    const reloading = dec.decode((await listener.receive(2000))!);
    match(reloading, /^RELOADING=1\nMONOTONIC_USEC=\d+$/);
    const usec = BigInt(reloading.split("=")[2]!);
    equal(usec > 0n, true);
    equal(notifyStopping(), true);
    equal(dec.decode((await listener.receive(2000))!), "STOPPING=1");
    Deno.env.delete("NOTIFY_SOCKET");
    equal(notifyReady(), false); // not under systemd: nothing sent, no error
    equal(await listener.receive(100), null);
    let heard: Error | null = null;
    const broken = { socketPath: `${dir}/no-such-socket`, onError: (e: Error) => (heard = e) };
    equal(sdNotify("READY=1", broken), false); // a broken NOTIFY_SOCKET never throws
    match(String(heard), /sendto/);
  } finally {
    if (saved === undefined) Deno.env.delete("NOTIFY_SOCKET");
    else Deno.env.set("NOTIFY_SOCKET", saved);
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sd_notify reaches an abstract-namespace socket (@name, as systemd may set it)", async () => {
  const name = `@f2z-notify-${crypto.randomUUID()}`;
  const listener = bindDatagramListener(name);
  try {
    equal(sdNotify("READY=1", { socketPath: name }), true);
    equal(dec.decode((await listener.receive(2000))!), "READY=1");
  } finally {
    listener.close();
  }
});
