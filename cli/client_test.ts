import { equal } from "node:assert/strict";
import { renderTable } from "./client.ts";

Deno.test("the client says when a list or an unban --all reply was truncated", () => {
  const ban = {
    ip: "203.0.113.9",
    jail: "sshd",
    banned_at: "2026-11-25T12:00:00.000Z",
    expires_at: null,
    remaining_s: null,
    ban_count: 1,
    prefix: 32,
  };
  const list = renderTable("list", { bans: [ban], truncated: true, total: 62686 });
  equal(list.split("\n")[0], "62686 active; the newest 1 are listed");
  equal(renderTable("list", { bans: [ban] }).startsWith("ADDRESS"), true);
  equal(
    renderTable("unban_all", {
      unbanned: [{ ip: "203.0.113.9", jail: "sshd" }],
      truncated: true,
      total: 5,
    }),
    "5 unbanned; the first 1 are listed\nunbanned 203.0.113.9 (sshd)",
  );
  equal(renderTable("unban_all", { unbanned: [] }), "nothing to unban");
});
