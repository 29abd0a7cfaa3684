/** Token-bucket rate limiter for control requests. Pure: the caller passes the time. @module */

/** Options of `TokenBucket`. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: the burst allowed after a quiet period. */
  burst: number;
}

/** A token bucket that starts full. */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number | null = null;

  /** A full bucket; throws `RangeError` unless the rate is positive and the burst at least 1. */
  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(
        `expected ratePerSecond > 0 and burst >= 1, found ${options.ratePerSecond} and ${options.burst}`,
      );
    }
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#tokens = options.burst;
  }

  #refill(nowMs: number): void {
    if (this.#last !== null && nowMs > this.#last) {
      this.#tokens = Math.min(
        this.#burst,
        this.#tokens + ((nowMs - this.#last) * this.#rate) / 1000,
      );
    }
    if (this.#last === null || nowMs > this.#last) this.#last = nowMs;
  }

  /** Takes one token if available. */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token will be available (0 when one is). */
  msUntilToken(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.#rate);
  }
}
