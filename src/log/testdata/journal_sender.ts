/**
 * Sends records through the real sinks to journald's socket at the default path, for
 * `journald_real_test.ts` (which runs this inside a private mount namespace with its own
 * systemd-journald). Argument: a tag put in every record.
 */
import { AuditLog, Auditor } from "../../audit/mod.ts";
import { JournaldSink, Logger } from "../mod.ts";

const tag = Deno.args[0] ?? "untagged";
const sink = new JournaldSink();
const dir = Deno.makeTempDirSync();
const log = AuditLog.open(`${dir}/audit.log`);
try {
  const logger = new Logger("debug", [sink]);
  logger.warn("multi-line field", { tag, detail: "one\ntwo\nPRIORITY=0", _trusted: "dropped?" });
  new Auditor({ logger, log }).record({
    event: "ban",
    ip: "192.0.2.77",
    jail: "sshd",
    durationS: null,
    reason: `maxretry 3 within 600s ${tag}`,
    origin: "/var/log/auth.log:12345",
    line: "sshd[1]: Failed password for root from 192.0.2.77\nMESSAGE=forged",
  });
  if (sink.failures !== 0) throw new Error(`journald refused ${sink.failures} records`);
} finally {
  log.close();
  sink.close();
  Deno.removeSync(dir, { recursive: true });
}
