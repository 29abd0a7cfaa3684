import { deepEqual, equal } from "node:assert/strict";
import { duplicateKey, MAX_REQUEST_IPS, parseRequest } from "./protocol.ts";

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
      { v: 1, cmd: "list", ip: "192.0.2.1" },
      { v: 1, cmd: "list", jail: "sshd", ip: "192.0.2.1" },
      { v: 1, cmd: "banned", ips: ["192.0.2.1", "2001:db8::1"] },
      { v: 1, cmd: "unban", ips: ["192.0.2.1", "192.0.2.2"], jail: "sshd" },
      { v: 1, cmd: "ignore_add", cidr: "10.0.0.0/8" },
      { v: 1, cmd: "ignore_add", cidr: "192.0.2.7", jail: "sshd" },
      { v: 1, cmd: "ignore_del", cidr: "10.0.0.0/8" },
      { v: 1, cmd: "ignore_list" },
      { v: 1, cmd: "ignore_list", jail: "sshd" },
      { v: 1, cmd: "jail_stop", jail: "sshd" },
      { v: 1, cmd: "jail_start", jail: "sshd" },
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

Deno.test("parseRequest refuses address lists that are empty, too long or not strings, and unban with both or neither of ip and ips", () => {
  const req = (o: object) => JSON.stringify({ v: 1, ...o });
  equal(code(req({ cmd: "banned", ips: [] })), "bad_request");
  equal(code(req({ cmd: "banned", ips: "192.0.2.1" })), "bad_request");
  equal(code(req({ cmd: "banned", ips: ["192.0.2.1", 7] })), "bad_request");
  equal(code(req({ cmd: "banned", ips: Array(MAX_REQUEST_IPS).fill("192.0.2.1") })), "ok");
  equal(
    code(req({ cmd: "banned", ips: Array(MAX_REQUEST_IPS + 1).fill("192.0.2.1") })),
    "bad_request",
  );
  equal(code(req({ cmd: "unban" })), "bad_request");
  equal(code(req({ cmd: "unban", ip: "192.0.2.1", ips: ["192.0.2.2"] })), "bad_request");
  equal(code(req({ cmd: "ignore_add" })), "bad_request");
  equal(code(req({ cmd: "ignore_add", cidr: "" })), "bad_request");
  equal(code(req({ cmd: "jail_stop" })), "bad_request");
  equal(code(req({ cmd: "ignore_list", cidr: "10.0.0.0/8" })), "bad_request");
});

Deno.test("parseRequest refuses a request that names a field twice, also through escapes or nested", () => {
  for (
    const text of [
      `{"v":1,"cmd":"status","cmd":"unban_all"}`,
      `{"v":1,"cmd":"unban","ip":"192.0.2.1","ip":"192.0.2.2"}`,
      `{"v":1,"cmd":"status","\\u0063md":"unban_all"}`,
      `{"v":1, "cmd" : "ping", "v" : 1}`,
    ]
  ) {
    const r = parseRequest(text);
    equal(r.ok ? "ok" : r.code, "bad_request", text);
    if (!r.ok) equal(r.error.startsWith("expected each field once, found"), true, r.error);
  }
  equal(duplicateKey(`{"a":{"b":1,"c":[{"b":2}],"d":"\\"b\\":"},"b":[1,{"x":1}],"x":"a"}`), null);
  equal(duplicateKey(`{"a":{"b":1,"b":2}}`), "b");
  equal(code(`{"v":1,"cmd":"list","jail":"a:b","ip":"192.0.2.1"}`), "ok");
});
