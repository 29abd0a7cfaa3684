/**
 * The fleet: bans shared with other hosts through NATS JetStream (docs/fleet.md). Loaded only
 * when `[fleet]` is configured, by a dynamic import of this module: a daemon without it loads
 * none of this code nor the NATS client.
 * @module
 */
export {
  addressToken,
  type Decoded,
  decodeRecord,
  type DropReason,
  encodeRecord,
  type FleetRecord,
  MAX_FUTURE_MS,
  MAX_REASON_CHARS,
  MAX_RECORD_BYTES,
  RECORD_VERSION,
  SUBJECT_ROOT,
  subjectOf,
} from "./record.ts";
