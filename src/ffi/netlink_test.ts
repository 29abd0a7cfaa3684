import assert from "node:assert/strict";
import {
  findAttr,
  MessageWriter,
  NLA_F_NESTED,
  NLM_F,
  NLMSG,
  parseAttrs,
  parseError,
  parseMessages,
  readStr,
  readU32be,
} from "./netlink.ts";

Deno.test("MessageWriter pads attributes to 4 bytes and patches message and nest lengths", () => {
  const w = new MessageWriter();
  w.beginMessage(0x0a0c, NLM_F.REQUEST | NLM_F.ACK, 7);
  w.nfgenmsg(1);
  w.str(1, "fail2zig"); // 4 + 9 = 13 → padded to 16
  w.nest(3, () => w.u32be(4, 30_000));
  w.endMessage();
  const bytes = w.bytes();
  assert.equal(bytes.length, 16 + 4 + 16 + 12);
  const [m] = parseMessages(bytes);
  assert.ok(m);
  assert.equal(m.type, 0x0a0c);
  assert.equal(m.seq, 7);
  assert.equal(m.flags, NLM_F.REQUEST | NLM_F.ACK);
  const attrs = parseAttrs(m.payload, 4);
  assert.equal(readStr(findAttr(attrs, 1)!), "fail2zig");
  const nest = findAttr(attrs, 3)!;
  assert.equal(readU32be(findAttr(parseAttrs(nest), 4)!), 30_000);
  // the NESTED flag is set on the wire but masked when parsing
  const raw = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(raw.getUint16(16 + 4 + 16 + 2, true), 3 | NLA_F_NESTED);
});

Deno.test("parseError() reads errno, the acknowledged seq and the extended-ack message", () => {
  const w = new MessageWriter();
  w.beginMessage(NLMSG.ERROR, NLM_F.CAPPED | NLM_F.ACK_TLVS, 9);
  const body = new Uint8Array(4 + 16);
  const v = new DataView(body.buffer);
  v.setInt32(0, -2, true); // -ENOENT
  v.setUint32(4, 20, true); // original length
  v.setUint32(4 + 8, 9, true); // original seq
  w.raw(body);
  w.str(1, "set not found");
  w.endMessage();
  const [m] = parseMessages(w.bytes());
  const e = parseError(m!);
  assert.equal(e.errno, 2);
  assert.equal(e.ackedSeq, 9);
  assert.equal(e.detail, "set not found");
});

Deno.test("parseMessages() refuses a length that runs past the datagram", () => {
  const bad = new Uint8Array(20);
  new DataView(bad.buffer).setUint32(0, 64, true);
  assert.throws(() => parseMessages(bad), /malformed message length 64/);
});

Deno.test("MessageWriter refuses to hand out bytes while a message is open", () => {
  const w = new MessageWriter();
  w.beginMessage(1, 0, 1);
  assert.throws(() => w.bytes(), /still open/);
});
