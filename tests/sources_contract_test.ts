/** The LogSource contract, run against FileSource, JournalSource and the MemorySource fake. */
import { FileSource, JournalSource, MemoryLog, MemorySource } from "../src/sources/mod.ts";
import { logSourceContract } from "../src/sources/testdata/contract.ts";
import { append } from "../src/sources/testdata/harness.ts";
import { appendJournal } from "../src/sources/testdata/journal.ts";

logSourceContract("FileSource", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-contract-" });
  const log = `${dir}/app.log`;
  append(log, "already there\n");
  return {
    make: (saved) => new FileSource({ patterns: [log], saved, recheckMs: 100 }),
    feed: (texts) => Promise.resolve(append(log, texts.map((t) => t + "\n").join(""))),
    shown: (text) => text,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

logSourceContract("JournalSource", async () => {
  const dir = await Deno.makeTempDir({ prefix: "f2z-contract-journal-" });
  let t = 1_764_000_000_000_000;
  const feed = (texts: readonly string[]) =>
    appendJournal(
      dir,
      texts.map((message) => ({
        message,
        timeUs: t += 1000,
        unit: "ssh.service",
        ident: "sshd",
        pid: 42,
      })),
    );
  await feed(["already there"]);
  return {
    make: (saved) =>
      new JournalSource({ match: ["_SYSTEMD_UNIT=ssh.service"], directory: dir, saved }),
    feed,
    shown: (text) => `sshd[42]: ${text}`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

logSourceContract("MemorySource", () => {
  const log = new MemoryLog();
  log.append(["already there"]);
  return Promise.resolve({
    make: (saved) => new MemorySource({ log, name: "test", saved }),
    feed: (texts) => Promise.resolve(log.append(texts)),
    shown: (text) => text,
    cleanup: () => Promise.resolve(),
  });
});
