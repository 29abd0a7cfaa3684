/**
 * Actions beside the firewall ban: `[actions.NAME]` of `type = "exec"` (a program, no shell) and
 * `type = "smtp"` (a mail per ban), run off the ban path in bounded queues. @module
 */
export {
  type ActionEvent,
  type ActionResult,
  ActionRunner,
  type ActionRunnerOptions,
  STOP_WAIT_MS,
} from "./runner.ts";
export { EXEC_ENV, placeholders, STDERR_KEPT, substitute } from "./_exec.ts";
export { formatMessage, type Mail, sendMail } from "./_smtp.ts";
/** The config types actions are built from (owned by `src/config`). */
export type {
  ActionBase,
  ActionConfig,
  ExecActionConfig,
  SmtpActionConfig,
} from "../config/mod.ts";
/** The logger failures are reported to (owned by `src/log`). */
export type { Fields, Logger, LogLevel } from "../log/mod.ts";
