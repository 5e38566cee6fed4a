/**
 * @file The errors of jacrev, jacfwd and hessian: bad argnums (either form), options, arguments
 * and outputs. Each message names the op, the argument, and what arrived.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");

describe("errors name the op and the argument", () => {
  const x = f64([1, 2]);
  const sq = (v: Value) => A.mul(v, v);
  // [case, call, op, argument, what the detail says]: messages read "op: detail (argument `arg`); fix".
  const cases: Array<[string, () => unknown, string, string, RegExp]> = [
    ["f not a function", () => A.jacrev(5 as never), "jacrev", "f", /expected a function, got number/],
    ["argnums 1.5", () => A.jacfwd(sq, 1.5), "jacfwd", "argnums", /non-negative integer, got 1\.5/],
    ["argnums -1", () => A.hessian(sq, { argnums: -1 }), "hessian", "options.argnums", /non-negative integer, got -1/],
    ["argnums duplicated", () => A.jacrev(sq, [0, 0]), "jacrev", "argnums", /lists argument 0 twice/],
    ["argnums empty", () => A.jacrev(sq, { argnums: [] }), "jacrev", "options.argnums", /empty array/],
    ["argnums a string", () => A.jacfwd(sq, { argnums: "0" as never }), "jacfwd", "options.argnums", /the string "0"/],
    ["argnums entry a string", () => A.jacfwd(sq, [0, "1"] as never), "jacfwd", "argnums", /argnums\[1\].*"1"/],
    ["options null", () => A.jacrev(sq, null as never), "jacrev", "options", /got null/],
    ["options a string", () => A.jacrev(sq, "0" as never), "jacrev", "options", /the string "0"/],
    ["unknown option", () => A.jacrev(sq, { argnum: 0 } as never), "jacrev", "options.argnum", /argnum/],
    ["hasAux not boolean", () => A.jacfwd(sq, { hasAux: "yes" } as never), "jacfwd", "options.hasAux", /true or false/],
    [
      "argnums out of range",
      () => A.jacrev((a: Value, b: Value) => A.mul(a, b), 2)(x, x),
      "jacrev",
      "argnums",
      /argnum 2 is out of range for 2 argument/,
    ],
    [
      "hessian argnum out of range",
      () => A.hessian((v: Value) => A.sum(v), 3)(x),
      "hessian",
      "argnums",
      /out of range/,
    ],
    [
      "int leaf",
      () => A.jacrev((q: { v: Value }) => q.v)({ v: T.tensor([1, 2], "int32") }),
      "jacrev",
      "args[0].v",
      /float inputs, but args\[0\]\.v is int32/,
    ],
    ["arg with no tensor", () => A.jacfwd(sq)([1, 2] as never), "jacfwd", "args[0]", /holds no tensor, got an array/],
    [
      "int output",
      () => A.jacrev((v: Value) => [v, A.astype(v, "int32")])(x),
      "jacrev",
      "f",
      /float outputs, but f's output out\[1\] is int32/,
    ],
    ["hasAux without a pair", () => A.jacrev(sq, { hasAux: true })(x), "jacrev", "f", /must return \[out, aux\]/],
  ];
  it.each(cases)("%s", (_, thunk, op, arg, detail) => {
    let message = "";
    try {
      thunk();
    } catch (e) {
      expect(e).toBeInstanceOf(A.GraphException);
      message = (e as Error).message;
    }
    expect(message.startsWith(`${op}: `)).toBe(true);
    expect(message).toContain(`(argument \`${arg}\`)`);
    expect(message).toMatch(detail);
  });
});
