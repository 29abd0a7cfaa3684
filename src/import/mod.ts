/**
 * fail2ban importer: reads a fail2ban configuration tree (`jail.conf`, `jail.d/*.conf`,
 * `jail.local`, `jail.d/*.local` with their includes) and writes the equivalent fail2zig config.
 * @module
 */
export {
  importFail2ban,
  type ImportOptions,
  type ImportResult,
  NoJailConfError,
} from "./import.ts";
export { denoFileReader, type FileReader, memoryFileReader } from "./fs.ts";
export {
  type IniFile,
  IniTree,
  InterpolationError,
  parseIni,
  readFiles,
  readTree,
} from "./_ini.ts";
export { parseFail2banTime, type TimeResult } from "./_time.ts";
export {
  convertBans,
  type ConvertedBans,
  DEFAULT_FAIL2BAN_DB,
  type Fail2banBanRow,
  mergeBans,
  readFail2banBans,
  targetFor,
  type TargetJail,
} from "./bans.ts";
/** The state record imported bans become (owned by `src/state`). */
export type { StateBan } from "../state/mod.ts";
