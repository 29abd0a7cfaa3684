/**
 * A parser Worker gone wrong, for `WorkerParserHost`'s boundary test: after `start` it posts
 * `ready`, then messages the real Worker never sends (a batch naming jail 7 of a config with two
 * jails, a batch whose count overruns its arrays, a bare number), then one well-formed batch of
 * three failures of 198.51.100.7 in jail 1, each batch once the credit for the one before came
 * back. After each acknowledgement it reports `ack N` as a
 * warning, so the test sees the credit return.
 * @module
 */
/// <reference lib="deno.worker" />

const IP = "198.51.100.7";

/** A batch of `n` failures of `ip` in jail `jail`; `over` replaces fields. */
function batch(jail: number, n: number, over: Record<string, unknown> = {}) {
  return {
    type: "batch",
    count: n,
    jails: new Int32Array(n).fill(jail),
    ips: Array(n).fill(IP).join("\n"),
    times: new Float64Array(n).fill(NaN),
    origin: "/var/log/crafted.log",
    offsets: new Float64Array(n).fill(-1),
    lines: [[jail, n, 0]],
    positions: [],
    sentAt: Date.now(),
    ...over,
  };
}

/**
 * What is posted after `start`, in order; after a batch (the real Worker waits for credit then)
 * the next one waits for the acknowledgement, after anything else it follows at once.
 */
const script: unknown[] = [
  batch(7, 1, { lines: [[1, 1, 0]] }),
  batch(1, 1, { count: 5 }),
  42,
  batch(1, 3),
];
let acks = 0;

function postNext(): void {
  for (let m = script.shift(); m !== undefined; m = script.shift()) {
    self.postMessage(m);
    if ((m as { type?: string }).type === "batch") return;
  }
}

self.onmessage = (e: MessageEvent<{ type: string }>) => {
  switch (e.data.type) {
    case "start":
      self.postMessage({ type: "ready", readPaths: [] });
      postNext();
      break;
    case "ack":
      self.postMessage({ type: "warning", message: `ack ${++acks}` });
      postNext();
      break;
    case "stop":
      self.postMessage({ type: "stopped", positions: [] });
      break;
  }
};
