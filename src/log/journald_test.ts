import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { bindDatagramListener } from "../ffi/unix.ts";
import {
  createLogSink,
  decodeJournalEntry,
  encodeJournalEntry,
  type Fields,
  JournaldSink,
  journalFieldName,
  LineSink,
  Logger,
  type LogSink,
} from "./mod.ts";

class MemorySink implements LogSink {
  records: { level: string; message: string; fields: Fields }[] = [];
  write(level: string, message: string, fields: Fields): void {
    this.records.push({ level, message, fields });
  }
}

Deno.test("journal native protocol: plain fields as NAME=value, multi-line values in the binary length form", () => {
  const bytes = encodeJournalEntry([
    ["MESSAGE", "ban 192.0.2.1"],
    ["LINE", "first\nPRIORITY=0\nlast"],
    ["EMPTY", ""],
  ]);
  const text = new TextDecoder().decode(bytes);
  ok(text.startsWith("MESSAGE=ban 192.0.2.1\nLINE\n"));
  // The binary form: name, newline, u64 LE length, value, newline.
  const at = text.indexOf("LINE\n") + 5;
  equal(new DataView(bytes.buffer, at, 8).getBigUint64(0, true), 21n);
  deepEqual(decodeJournalEntry(bytes), [
    ["MESSAGE", "ban 192.0.2.1"],
    ["LINE", "first\nPRIORITY=0\nlast"], // no injected PRIORITY field
    ["EMPTY", ""],
  ]);
  throws(() => encodeJournalEntry([["_IP", "x"]]), /field name/);
  throws(() => encodeJournalEntry([["lower", "x"]]), /field name/);
  throws(
    () => decodeJournalEntry(new TextEncoder().encode("A\n\x05\0\0\0\0\0\0\0ab\n")),
    /disagrees/,
  );
});

Deno.test("journalFieldName() makes any key a valid client field name", () => {
  equal(journalFieldName("fail2zig_event"), "FAIL2ZIG_EVENT");
  equal(journalFieldName("durationS"), "DURATION_S");
  equal(journalFieldName("_IP"), "IP"); // journald drops client fields starting with "_"
  equal(journalFieldName("9lives"), "F_9LIVES");
  equal(journalFieldName("a.b-c"), "A_B_C");
  equal(journalFieldName("x".repeat(100)).length, 64);
});

Deno.test("JournaldSink sends one datagram per record that a journal listener parses", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-journal-" });
  const listener = bindDatagramListener(`${dir}/socket`);
  const sink = new JournaldSink({ socketPath: listener.path });
  try {
    const log = new Logger("debug", [sink]);
    log.warn("backend degraded", { backend: "nftables", retries: 3, detail: { errno: 1 } });
    const dgram = await listener.receive(2000);
    ok(dgram !== null);
    deepEqual(decodeJournalEntry(dgram!), [
      ["MESSAGE", "backend degraded"],
      ["PRIORITY", "4"],
      ["SYSLOG_IDENTIFIER", "fail2zig"],
      ["BACKEND", "nftables"],
      ["RETRIES", "3"],
      ["DETAIL", '{"errno":1}'],
    ]);
    equal(sink.failures, 0);
  } finally {
    sink.close();
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JournaldSink hands a record it cannot send to the fallback sink", () => {
  const fallback = new MemorySink();
  const sink = new JournaldSink({ socketPath: "/nonexistent/f2z/socket", fallback });
  try {
    sink.write("error", "cannot ban", { ip: "192.0.2.9" });
    equal(sink.failures, 1);
    equal(fallback.records.length, 1);
    equal(fallback.records[0]!.fields.ip, "192.0.2.9");
    match(String(fallback.records[0]!.fields.journal_error), /sendto/);
  } finally {
    sink.close();
  }
});

Deno.test("createLogSink() picks journald only when its socket exists", async () => {
  ok(createLogSink({ journalSocket: "/nonexistent/f2z/journal" }) instanceof LineSink);
  const dir = await Deno.makeTempDir({ prefix: "f2z-journal-" });
  const listener = bindDatagramListener(`${dir}/socket`);
  try {
    const sink = createLogSink({ journalSocket: listener.path });
    ok(sink instanceof JournaldSink);
    sink.close();
    await Deno.writeTextFile(`${dir}/file`, "");
    ok(createLogSink({ journalSocket: `${dir}/file` }) instanceof LineSink);
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Logger redacts log content below debug and shows it at debug", () => {
  const mem = new MemorySink();
  const info = new Logger("info", [mem]);
  info.info("matched", { line: "Failed password for root from 192.0.2.1", ip: "192.0.2.1" });
  deepEqual(mem.records[0]!.fields, { line: "[redacted: 39 chars]", ip: "192.0.2.1" });
  const debug = new Logger("debug", [mem]);
  debug.debug("matched", { line: "Failed password" });
  equal(mem.records[1]!.fields.line, "Failed password");
});

Deno.test("Logger.audit() writes whatever the level threshold", () => {
  const mem = new MemorySink();
  const log = new Logger("error", [mem]);
  log.info("dropped");
  log.audit("ban 192.0.2.1", { fail2zig_event: "ban" });
  equal(mem.records.length, 1);
  equal(mem.records[0]!.level, "info");
});

Deno.test("LineSink writes one JSON object per line", () => {
  const chunks: Uint8Array[] = [];
  const sink = new LineSink({
    writeSync(p: Uint8Array) {
      chunks.push(p.slice());
      return p.length;
    },
  });
  sink.write("info", "hello\nworld", { a: 1 });
  const text = new TextDecoder().decode(chunks[0]);
  ok(text.endsWith("\n") && text.split("\n").length === 2);
  const rec = JSON.parse(text);
  equal(rec.msg, "hello\nworld");
  equal(rec.a, 1);
});
