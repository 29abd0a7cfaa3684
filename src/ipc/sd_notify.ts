/**
 * `sd_notify` without libsystemd: one datagram of `KEY=value` lines to the `AF_UNIX` socket named
 * by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
 * @module
 */
import { closeFd, monotonicUsec, sendDatagram, unixSocket } from "../ffi/mod.ts";

/** Options of `sdNotify`. */
export interface SdNotifyOptions {
  /** The notify socket. @default the `NOTIFY_SOCKET` environment variable */
  socketPath?: string | undefined;
}

function notifySocket(options: SdNotifyOptions): string | undefined {
  if ("socketPath" in options) return options.socketPath || undefined;
  try {
    return Deno.env.get("NOTIFY_SOCKET") || undefined;
  } catch {
    return undefined; // env permission revoked: not under systemd as far as we can tell
  }
}

/**
 * Sends `state` (e.g. `"READY=1"`, or several lines) to the service manager. Returns true when
 * sent; false when there is no notify socket (not started by systemd with `Type=notify`) or the
 * send failed (like `sd_notify`, a failure never stops the daemon; `onError` hears about it).
 */
export function sdNotify(
  state: string,
  options: SdNotifyOptions & { onError?: (e: Error) => void } = {},
): boolean {
  const path = notifySocket(options);
  if (path === undefined) return false;
  let fd: number | null = null;
  try {
    fd = unixSocket("dgram");
    sendDatagram(fd, new TextEncoder().encode(state), path);
    return true;
  } catch (e) {
    options.onError?.(e instanceof Error ? e : new Error(String(e)));
    return false;
  } finally {
    if (fd !== null) closeFd(fd);
  }
}

/** `READY=1` (with a `STATUS=` line when given): startup finished. */
export function notifyReady(status?: string, options: SdNotifyOptions = {}): boolean {
  return sdNotify(`READY=1${status ? `\nSTATUS=${status}` : ""}`, options);
}

/**
 * `RELOADING=1` with `MONOTONIC_USEC` (required by `Type=notify-reload`): a reload started;
 * send `notifyReady()` when it is done, successful or not.
 */
export function notifyReloading(options: SdNotifyOptions = {}): boolean {
  return sdNotify(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`, options);
}

/** `STOPPING=1`: shutdown started. */
export function notifyStopping(options: SdNotifyOptions = {}): boolean {
  return sdNotify("STOPPING=1", options);
}
