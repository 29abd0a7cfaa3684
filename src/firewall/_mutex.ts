/** Serialises async operations on one resource (a kernel ruleset, a netlink socket). @module */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  /** Runs `fn` after every earlier `run` has settled; a failure does not block the next one. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => {});
    return next;
  }
}
