/**
 * An authorised client flooding the control socket (threat D-03), shared by the flood test and
 * `bench:latency`: `steady` clients send `list` back to back on one connection each, `churn`
 * clients connect, ask once and close, over and over.
 * @module
 */
import { encodeFrame, IpcClient, type Reply } from "../src/ipc/mod.ts";

/** A running flood and what it has been answered so far. */
export interface ControlFlood {
  /** Replies received. */
  readonly answered: number;
  /** Replies with code `rate_limited`. */
  readonly limited: number;
  /** Stops every flooding client and waits for them. */
  stop(): Promise<void>;
}

/** Starts flooding the control socket at `socket`. */
export function floodControlSocket(
  socket: string,
  opts: { steady: number; churn: number },
): ControlFlood {
  const frame = encodeFrame({ v: 1, cmd: "list" });
  let stopped = false;
  const flood = { answered: 0, limited: 0 };
  const count = (r: Reply) => {
    flood.answered++;
    if (!r.ok && r.code === "rate_limited") flood.limited++;
  };
  const steady = async () => {
    const c = await IpcClient.connect(socket);
    try {
      while (!stopped) {
        await c.send(frame);
        count(await c.receive(10_000));
      }
    } finally {
      c.close();
    }
  };
  const churn = async () => {
    while (!stopped) {
      const c = await IpcClient.connect(socket);
      try {
        await c.send(frame);
        count(await c.receive(10_000));
      } finally {
        c.close();
      }
    }
  };
  const clients = [
    ...Array.from({ length: opts.steady }, steady),
    ...Array.from({ length: opts.churn }, churn),
  ];
  return {
    get answered() {
      return flood.answered;
    },
    get limited() {
      return flood.limited;
    },
    async stop() {
      stopped = true;
      await Promise.all(clients);
    },
  };
}
