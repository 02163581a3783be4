// The one retry helper (src/lib/retry.ts) and the marks the bridge's errors carry for it.
import { describe, expect, it } from "vitest";
import { backoff, mayRetry, retry } from "../../src/lib/retry.ts";
import { RetryableError } from "../../workers/kafka-bridge/worker-client.ts";

const marked = (mark: "overloaded" | "retryable") => Object.assign(new Error(mark), { [mark]: true });

describe("retry", () => {
  it("backs off exponentially with equal jitter, capped", () => {
    const at = (attempt: number, r: number) => backoff(attempt, { baseMs: 100, maxMs: 1000, random: () => r });
    expect([1, 2, 3, 4, 5].map((a) => at(a, 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((a) => at(a, 0.999999))).toEqual([100, 200, 400, 800, 1000]);
  });

  it("never retries .overloaded; retries .retryable only when idempotent; others only when asked", () => {
    expect(mayRetry(marked("overloaded"), true, true)).toBe(false);
    expect(mayRetry(marked("retryable"), true)).toBe(true);
    expect(mayRetry(marked("retryable"), false)).toBe(false);
    expect(mayRetry(new Error("x"), true)).toBe(false);
    expect(mayRetry(new Error("x"), true, true)).toBe(true);
    expect(mayRetry(new RetryableError("worker answered 503"), true)).toBe(true);
    expect(mayRetry(new RetryableError("worker answered 503"), false)).toBe(false);
  });

  it("runs until success, a refusal, or the attempts run out, sleeping the backoff between", async () => {
    const slept: number[] = [];
    const options = { attempts: 4, idempotent: true, baseMs: 10, maxMs: 1000, random: () => 0, sleep: async (ms: number) => void slept.push(ms) };
    let calls = 0;
    expect(await retry(async () => (++calls < 3 ? Promise.reject(marked("retryable")) : "done"), options)).toBe("done");
    expect([calls, slept]).toEqual([3, [5, 10]]);
    calls = 0;
    await expect(retry(async () => (++calls, Promise.reject(marked("overloaded"))), options)).rejects.toThrow("overloaded");
    expect(calls).toBe(1);
    calls = 0;
    await expect(retry(async () => (++calls, Promise.reject(marked("retryable"))), { ...options, idempotent: false })).rejects.toThrow();
    expect(calls).toBe(1);
    calls = 0;
    await expect(retry(async () => (++calls, Promise.reject(marked("retryable"))), options)).rejects.toThrow();
    expect(calls).toBe(4);
  });
});
