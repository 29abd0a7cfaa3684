import { deepEqual, equal } from "node:assert/strict";
import { parseRequest } from "./protocol.ts";

function code(text: string | null): string {
  const r = parseRequest(text);
  return r.ok ? "ok" : r.code;
}

Deno.test("parseRequest accepts every documented command with its fields", () => {
  for (
    const req of [
      { v: 1, cmd: "status" },
      { v: 1, cmd: "status_jail", jail: "sshd" },
      { v: 1, cmd: "jails" },
      { v: 1, cmd: "list" },
      { v: 1, cmd: "list", jail: "sshd" },
      { v: 1, cmd: "ban", ip: "192.0.2.1", jail: "sshd" },
      { v: 1, cmd: "ban", ip: "192.0.2.1", jail: "sshd", duration_s: 60 },
      { v: 1, cmd: "ban", ip: "192.0.2.1", jail: "sshd", duration_s: null },
      { v: 1, cmd: "unban", ip: "192.0.2.1" },
      { v: 1, cmd: "unban", ip: "192.0.2.1", jail: "sshd" },
      { v: 1, cmd: "unban_all" },
      { v: 1, cmd: "reload" },
      { v: 1, cmd: "version" },
      { v: 1, cmd: "ping" },
    ]
  ) {
    deepEqual(parseRequest(JSON.stringify(req)), { ok: true, request: req });
  }
});

Deno.test("parseRequest names what it expected and what it found", () => {
  equal(code(null), "bad_request");
  equal(code("[]"), "bad_request");
  equal(code('{"v":1}'), "bad_request");
  equal(code('{"v":1,"cmd":"toString"}'), "bad_request");
  equal(code('{"v":1,"cmd":"constructor"}'), "bad_request");
  equal(code('{"v":3,"cmd":"ping"}'), "unsupported_version");
  equal(code('{"v":1,"cmd":"ban","ip":"x","jail":"y","duration_s":-5}'), "bad_request");
  equal(code('{"v":1,"cmd":"ban","ip":"x","jail":"y","duration_s":"1h"}'), "bad_request");
  equal(code('{"v":1,"cmd":"unban","ip":""}'), "bad_request");
  const r = parseRequest('{"v":1,"cmd":"unban_all","ip":"192.0.2.1"}');
  deepEqual(r, {
    ok: false,
    code: "bad_request",
    error: 'unexpected field "ip" for command unban_all',
  });
});
