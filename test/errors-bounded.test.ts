/**
 * @file Error messages stay short whatever the input (issue 13, item 4). A rank-200,000 shape used
 * to give a 600,000-character message; now shapes, avals and values are elided where they are
 * written (`[1, 1, 1, 1, 1, 1, …, 1, 1, 1] (rank 200000)`), and every exception class caps its
 * message at MAX_MESSAGE_LENGTH characters as a last resort.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { scanUnrolled } from "@rewind/testing";
import { thrown } from "./thrown.js";

const RANK = 200_000;
const ones = (n: number): number[] => new Array<number>(n).fill(1);
/** A float32 tensor of rank 200,000 holding one element, and one whose last axis is 2. */
const huge = T.zeros(ones(RANK));
const hugeLast2 = T.zeros([...ones(RANK - 1), 2]);

describe("a rank-200,000 shape gives a short message that names the op and the rank", () => {
  const cases: ReadonlyArray<readonly [string, string, () => unknown]> = [
    ["tensor reshape", "reshape", () => T.reshape(huge, [2])],
    ["autodiff reshape", "reshape", () => A.reshape(huge, [2])],
    ["tensor add, mismatched", "add", () => T.add(hugeLast2, T.zeros([3]))],
    ["autodiff add, mismatched", "add", () => A.add(hugeLast2, T.zeros([3]))],
    ["add under grad", "add", () => A.grad((x: A.Value) => A.sum(A.add(x, T.zeros([3]))))(hugeLast2)],
    ["add under jit", "add", () => A.jit((x: A.Value) => A.add(x, T.zeros([3])))(hugeLast2)],
    ["matmul", "matmul", () => A.matmul(huge, T.zeros([3, 3]))],
    ["transpose", "transpose", () => A.transpose(huge, [0])],
    ["broadcastTo", "broadcastTo", () => A.broadcastTo(huge, [2])],
    ["fromData", "fromData", () => T.fromDataOrThrow([1, 2, 3], ones(RANK))],
    ["grad of a non-scalar", "grad", () => A.grad((x: A.Value) => x)(huge)],
    [
      "a scan carry that changes shape",
      "scan",
      () => A.scan((c: A.Value, x: A.Value) => [A.reshape(c, [1]), x] as const, huge, T.zeros([2])),
    ],
  ];
  for (const [name, op, call] of cases) {
    it(name, () => {
      const e = thrown(call);
      expect(e instanceof T.TensorException || e instanceof A.GraphException).toBe(true);
      expect(e.message.length).toBeLessThan(400);
      expect(e.message.startsWith(`${op}: `)).toBe(true);
      expect(e.message).toContain(`(rank ${RANK})`);
    });
  }
  it("the elided shape keeps its first six and last three dimensions", () => {
    expect(T.formatShape([...ones(RANK - 1), 7])).toBe("[1, 1, 1, 1, 1, 1, …, 1, 1, 7] (rank 200000)");
    expect(T.formatShape(ones(12))).toBe(`[${ones(12).join(", ")}]`);
    expect(T.formatShape(ones(13))).toBe("[1, 1, 1, 1, 1, 1, …, 1, 1, 1] (rank 13)");
  });
});

describe("every exception caps its message at MAX_MESSAGE_LENGTH", () => {
  const long = "x".repeat(50_000);
  it("TensorException, with the op first and the count of what was cut last", () => {
    const e = new T.TensorException({ _tag: "ValueError", op: "myOp", arg: "x", detail: long, fix: "shorten it" });
    expect(e.message.length).toBeLessThanOrEqual(T.MAX_MESSAGE_LENGTH);
    expect(e.message).toMatch(/^myOp: x{100}/);
    expect(e.message).toMatch(/ … \(\d+ more characters\)$/);
    const kept = e.message.length - e.message.match(/ … \(\d+ more characters\)$/)![0].length;
    expect(Number(e.message.match(/\((\d+) more/)![1])).toBe(T.formatTensorError(e.error).length - kept);
    // The tagged value keeps everything.
    expect((e.error as { detail: string }).detail).toBe(long);
  });
  it("GraphException", () => {
    const e = new A.GraphException({
      _tag: "InvalidArgument",
      op: "myTransform",
      arg: "f",
      detail: long,
      fix: "shorten it",
    });
    expect(e.message.length).toBeLessThanOrEqual(T.MAX_MESSAGE_LENGTH);
    expect(e.message).toMatch(/^myTransform: x+ … \(\d+ more characters\)$/);
  });
  it("@rewind/testing's RewindErrors (scanUnrolled given 3,000 xs leaves of different lengths)", () => {
    const xs = Array.from({ length: 3000 }, (_, i) => T.zeros([i + 1]));
    const e = thrown(() => scanUnrolled((c: A.Value) => [c, null] as const, T.scalar(0), xs));
    expect(Object.getPrototypeOf(e)).toBe(T.RewindError.prototype);
    expect(e.message).toMatch(/^scanUnrolled: xs leaves must share a leading axis/);
    expect(e.message.length).toBeLessThanOrEqual(T.MAX_MESSAGE_LENGTH);
    expect(e.message).toMatch(/more characters\)$/);
  });
  it("capMessage leaves short text alone and never cuts a surrogate pair in half", () => {
    expect(T.capMessage("short")).toBe("short");
    expect(T.capMessage("a".repeat(T.MAX_MESSAGE_LENGTH))).toHaveLength(T.MAX_MESSAGE_LENGTH);
    for (let shift = 0; shift < 4; shift++) {
      const capped = T.capMessage("a".repeat(shift) + "😀".repeat(5000), 100);
      expect(capped.length).toBeLessThanOrEqual(100);
      expect(capped).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
  });
});
