/**
 * The control socket server in process, against the fake controller: commands, validation,
 * frame limits, rate limit, client bound, idle timeout, socket file lifecycle, event-loop health.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import {
  encodeFrame,
  FakeController,
  IpcClient,
  IpcProtocolError,
  type IpcServer,
  type Reply,
  SocketInUseError,
  startIpcServer,
} from "./mod.ts";
import type { IpcLimits } from "./mod.ts";
import { bindUnix, closeFd, unixSocket } from "../ffi/unix.ts";
import { assertPrompt, watchLag } from "../../tests/_lag.ts";
import { waitUntil } from "../../tests/_wait.ts";

const NO_GROUP = "f2z-no-such-group"; // → mode 0600, root only (the test runs as root or owner)

async function withServer(
  fn: (ctx: { server: IpcServer; path: string; controller: FakeController }) => Promise<void>,
  limits: Partial<IpcLimits> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "f2z-ipc-" });
  const path = `${dir}/run/fail2zig.sock`;
  const controller = new FakeController();
  const server = await startIpcServer({
    path,
    controller,
    version: "9.9.9",
    group: NO_GROUP,
    limits,
  });
  try {
    await fn({ server, path, controller });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function ask(path: string, request: object): Promise<Reply> {
  const c = await IpcClient.connect(path);
  try {
    return await c.request(request);
  } finally {
    c.close();
  }
}

function rawFrame(body: Uint8Array, announced = body.length): Uint8Array {
  const f = new Uint8Array(4 + body.length);
  new DataView(f.buffer).setUint32(0, announced, true);
  f.set(body, 4);
  return f;
}

Deno.test("IPC server answers every command through the controller with the documented shapes", async () => {
  await withServer(async ({ path, controller }) => {
    deepEqual(await ask(path, { v: 1, cmd: "ping" }), { ok: true, pong: true });
    deepEqual(await ask(path, { v: 1, cmd: "version" }), { ok: true, version: "9.9.9" });
    const ban = await ask(path, {
      v: 1,
      cmd: "ban",
      ip: "192.0.2.7",
      jail: "sshd",
      duration_s: 60,
    });
    deepEqual(ban, { ok: true, ip: "192.0.2.7", jail: "sshd", duration_s: 60 });
    const perm = await ask(path, {
      v: 1,
      cmd: "ban",
      ip: "2001:db8::1",
      jail: "nginx",
      duration_s: null,
    });
    deepEqual(perm, { ok: true, ip: "2001:db8::1", jail: "nginx", duration_s: null });
    const dflt = await ask(path, { v: 1, cmd: "ban", ip: "192.0.2.8", jail: "sshd" });
    deepEqual(dflt, { ok: true, ip: "192.0.2.8", jail: "sshd", duration_s: 600 });
    const list = await ask(path, { v: 1, cmd: "list", jail: "sshd" });
    ok(list.ok);
    deepEqual((list.bans as { ip: string }[]).map((b) => b.ip), ["192.0.2.7", "192.0.2.8"]);
    const status = await ask(path, { v: 1, cmd: "status" });
    ok(status.ok && status.active_bans === 3);
    const js = await ask(path, { v: 1, cmd: "status_jail", jail: "nginx" });
    ok(js.ok && js.active_bans === 1);
    const jails = await ask(path, { v: 1, cmd: "jails" });
    ok(jails.ok && (jails.jails as unknown[]).length === 2);
    deepEqual(await ask(path, { v: 1, cmd: "unban", ip: "192.0.2.7" }), {
      ok: true,
      unbanned: [{ ip: "192.0.2.7", jail: "sshd" }],
    });
    const all = await ask(path, { v: 1, cmd: "unban_all" });
    ok(all.ok && (all.unbanned as unknown[]).length === 2);
    deepEqual(await ask(path, { v: 1, cmd: "reload" }), {
      ok: true,
      reloaded: true,
      jails: ["sshd", "nginx"],
    });
    deepEqual(controller.calls, [
      ["ban", "192.0.2.7", "sshd", 60],
      ["ban", "2001:db8::1", "nginx", null],
      ["ban", "192.0.2.8", "sshd"],
      ["list", "sshd"],
      ["status"],
      ["statusJail", "nginx"],
      ["jails"],
      ["unban", "192.0.2.7"],
      ["unbanAll"],
      ["reload"],
    ]);
  });
});

Deno.test("IPC server maps ControlError to its code and anything else to internal", async () => {
  await withServer(async ({ path, controller }) => {
    const nf = await ask(path, { v: 1, cmd: "status_jail", jail: "nope" });
    deepEqual(nf, { ok: false, code: "not_found", error: "no jail named nope" });
    const bad = await ask(path, { v: 1, cmd: "ban", ip: "not-an-ip", jail: "sshd" });
    equal(bad.ok === false && bad.code, "bad_request");
    controller.reloadError = "config.toml:3:1: unknown key";
    deepEqual(await ask(path, { v: 1, cmd: "reload" }), {
      ok: false,
      code: "invalid_config",
      error: "config.toml:3:1: unknown key",
    });
    controller.status = () => Promise.reject(new TypeError("boom"));
    const internal = await ask(path, { v: 1, cmd: "status" });
    equal(internal.ok === false && internal.code, "internal");
    deepEqual(await ask(path, { v: 1, cmd: "ping" }), { ok: true, pong: true });
  });
});

Deno.test("IPC server answers malformed requests with a code and keeps the connection", async () => {
  await withServer(async ({ path }) => {
    const c = await IpcClient.connect(path);
    try {
      const enc = new TextEncoder();
      const cases: [Uint8Array, string][] = [
        [rawFrame(enc.encode("{not json")), "bad_request"],
        [rawFrame(new Uint8Array(0)), "bad_request"],
        [rawFrame(new Uint8Array([0xff, 0xfe, 0x7b])), "bad_request"],
        [encodeFrame([1, 2]), "bad_request"],
        [encodeFrame("ping"), "bad_request"],
        [encodeFrame({ cmd: "ping" }), "bad_request"],
        [encodeFrame({ v: 2, cmd: "ping" }), "unsupported_version"],
        [encodeFrame({ v: "1", cmd: "ping" }), "unsupported_version"],
        [encodeFrame({ v: 1, cmd: "shutdown" }), "bad_request"],
        [encodeFrame({ v: 1, cmd: "ping", extra: 1 }), "bad_request"],
        [encodeFrame({ v: 1, cmd: "ban", ip: "192.0.2.1" }), "bad_request"],
        [encodeFrame({ v: 1, cmd: "ban", ip: 7, jail: "sshd" }), "bad_request"],
        [
          encodeFrame({ v: 1, cmd: "ban", ip: "192.0.2.1", jail: "sshd", duration_s: 1.5 }),
          "bad_request",
        ],
        [
          encodeFrame({ v: 1, cmd: "ban", ip: "192.0.2.1", jail: "sshd", duration_s: 0 }),
          "bad_request",
        ],
        [encodeFrame({ v: 1, cmd: "status_jail", jail: "" }), "bad_request"],
        [encodeFrame({ v: 1, cmd: "list", jail: "x".repeat(300) }), "bad_request"],
        [encodeFrame({ v: 1, cmd: "__proto__" }), "bad_request"],
      ];
      for (const [bytes, code] of cases) {
        await c.send(bytes);
        const r = await c.receive(5000);
        equal(r.ok, false);
        if (!r.ok) {
          equal(r.code, code, `reply ${JSON.stringify(r)}`);
          ok(r.error.length > 0);
        }
      }
      deepEqual(await c.request({ v: 1, cmd: "ping" }), { ok: true, pong: true });
    } finally {
      c.close();
    }
  });
});

Deno.test("IPC server answers an oversize frame with too_large, closes that connection and lives on", async () => {
  await withServer(async ({ path, server }) => {
    const c = await IpcClient.connect(path);
    try {
      // Only the header: the server must refuse on the announced length, without reading 64 KiB.
      await c.send(rawFrame(new Uint8Array(0), 64 * 1024 + 1));
      const r = await c.receive(5000);
      equal(r.ok === false && r.code, "too_large");
      await rejects(c.receive(5000), IpcProtocolError);
    } finally {
      c.close();
    }
    // A full oversize body as well.
    const big = await IpcClient.connect(path);
    try {
      const body = new TextEncoder().encode(
        JSON.stringify({ v: 1, cmd: "ping", pad: "x".repeat(70_000) }),
      );
      await big.send(rawFrame(body));
      const r = await big.receive(5000);
      equal(r.ok === false && r.code, "too_large");
    } finally {
      big.close();
    }
    // Exactly at the cap is a frame like any other (here: a bad request, not too_large).
    const edge = await IpcClient.connect(path);
    try {
      const pad = 64 * 1024 - JSON.stringify({ v: 1, cmd: "ping", pad: "" }).length;
      const r = await edge.request({ v: 1, cmd: "ping", pad: "x".repeat(pad) });
      equal(r.ok === false && r.code, "bad_request");
    } finally {
      edge.close();
    }
    deepEqual(await ask(path, { v: 1, cmd: "ping" }), { ok: true, pong: true });
    ok(server.stats().errors >= 3);
  });
});

Deno.test("IPC server rate-limits a burst per peer with rate_limited and then recovers", async () => {
  await withServer(async ({ path, server }) => {
    const c = await IpcClient.connect(path);
    try {
      const n = 30;
      const frames = Array.from({ length: n }, () => encodeFrame({ v: 1, cmd: "ping" }));
      const all = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
      let at = 0;
      for (const f of frames) {
        all.set(f, at);
        at += f.length;
      }
      await c.send(all); // pipelined: 30 requests at once
      const codes: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await c.receive(10_000);
        codes.push(r.ok ? "ok" : r.code);
      }
      const okCount = codes.filter((x) => x === "ok").length;
      const limited = codes.filter((x) => x === "rate_limited").length;
      equal(okCount + limited, n, codes.join(","));
      ok(limited >= 1, `expected some rate_limited replies, got ${codes.join(",")}`);
      ok(okCount >= 5, `the burst of 5 must pass, got ${codes.join(",")}`);
      ok(server.stats().rateLimited === limited);
      await new Promise((r) => setTimeout(r, 300)); // refill
      deepEqual(await c.request({ v: 1, cmd: "ping" }), { ok: true, pong: true });
    } finally {
      c.close();
    }
  }, { ratePerSecond: 20, rateBurst: 5 });
});

Deno.test("IPC server bounds its clients: one past maxClients gets rate_limited and is closed", async () => {
  await withServer(async ({ path, server }) => {
    const held = [await IpcClient.connect(path), await IpcClient.connect(path)];
    try {
      for (const h of held) {
        deepEqual(await h.request({ v: 1, cmd: "ping" }), { ok: true, pong: true });
      }
      const extra = await IpcClient.connect(path);
      try {
        const r = await extra.request({ v: 1, cmd: "ping" });
        equal(r.ok === false && r.code, "rate_limited");
      } finally {
        extra.close();
      }
      equal(server.stats().refusedBusy, 1);
    } finally {
      for (const h of held) h.close();
    }
    // Slots come back once those clients leave.
    await waitUntil(() => server.stats().clients === 0, "the held clients gone", { stepMs: 20 });
    deepEqual(await ask(path, { v: 1, cmd: "ping" }), { ok: true, pong: true });
  }, { maxClients: 2 });
});

Deno.test("IPC server closes a connection that sends no complete request within the idle timeout", async () => {
  await withServer(async ({ path }) => {
    const c = await IpcClient.connect(path);
    try {
      await c.send(new Uint8Array([10, 0])); // half a header, then silence
      const t0 = Date.now();
      await rejects(c.receive(10_000), /closed the connection/);
      ok(Date.now() - t0 < 5000);
    } finally {
      c.close();
    }
  }, { idleTimeoutMs: 300 });
});

Deno.test("IPC server never unlinks a live socket, replaces a stale one, and refuses a non-socket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-ipc-" });
  const path = `${dir}/fail2zig.sock`;
  try {
    // Stale: a bound socket nobody listens on.
    const fd = unixSocket("stream");
    bindUnix(fd, path);
    closeFd(fd);
    ok(Deno.lstatSync(path).isSocket);
    const a = await startIpcServer({
      path,
      controller: new FakeController(),
      version: "a",
      group: NO_GROUP,
    });
    try {
      const ino = Deno.lstatSync(path).ino;
      await rejects(
        startIpcServer({ path, controller: new FakeController(), version: "b", group: NO_GROUP }),
        SocketInUseError,
      );
      equal(Deno.lstatSync(path).ino, ino);
      deepEqual(await ask(path, { v: 1, cmd: "version" }), { ok: true, version: "a" });
    } finally {
      await a.close();
    }
    await rejects(Deno.lstat(path), Deno.errors.NotFound); // removed at close
    await Deno.writeTextFile(path, "not a socket");
    await rejects(
      startIpcServer({ path, controller: new FakeController(), version: "c", group: NO_GROUP }),
      /found another kind of file/,
    );
    equal(await Deno.readTextFile(path), "not a socket");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IPC server refuses a socket directory writable by others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-ipc-" });
  try {
    await Deno.mkdir(`${dir}/open`);
    await Deno.chmod(`${dir}/open`, 0o777);
    await rejects(
      startIpcServer({
        path: `${dir}/open/f.sock`,
        controller: new FakeController(),
        version: "x",
        group: NO_GROUP,
      }),
      /writable by its owner only/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IPC server keeps the event loop responsive while clients flood it", async () => {
  await withServer(async ({ path, server }) => {
    let stop = false;
    const lag = watchLag(5);
    const flood = async () => {
      const c = await IpcClient.connect(path);
      const frame = encodeFrame({ v: 1, cmd: "status" });
      try {
        while (!stop) {
          await c.send(frame);
          await c.receive(10_000);
        }
      } finally {
        c.close();
      }
    };
    const floods = Array.from({ length: 8 }, flood);
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(floods);
    const lags = lag.stop();
    const s = server.stats();
    ok(s.rateLimited > 0, "the flood must hit the rate limit");
    // 1.5 s at 20/s plus a burst of 40, with slack: the handler ran a bounded number of times.
    ok(s.requests <= 40 + 20 * 3, `controller calls ${s.requests}`);
    assertPrompt(lags);
  });
});

Deno.test("IPC server paces new connections at acceptsPerSecond; the rest wait in the backlog", async () => {
  await withServer(async ({ path, server }) => {
    const t0 = performance.now();
    const replies = await Promise.all(Array.from({ length: 60 }, async () => {
      const c = await IpcClient.connect(path, { timeoutMs: 10_000 });
      try {
        return await c.request({ v: 1, cmd: "ping" }, 10_000);
      } finally {
        c.close();
      }
    }));
    const ms = performance.now() - t0;
    equal(replies.filter((r) => r.ok).length, 60);
    ok(server.stats().acceptPauses > 0, "the accept loop never paused");
    ok(ms >= 300, `60 connections at 100/s (burst 20) took only ${ms.toFixed(0)} ms`);
  }, { acceptsPerSecond: 100, ratePerSecond: 1000, rateBurst: 1000 });
});
