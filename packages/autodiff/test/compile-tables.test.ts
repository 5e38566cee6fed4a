/**
 * @file The compiler's tables are keyed by primitive name and checked by the type checker: a
 * misspelt key or a forgotten primitive is a compile error (`pnpm typecheck` type-checks this
 * file, so each `@ts-expect-error` below fails the build if the error it expects goes away), and
 * the float JavaScript forms rendered from lane expressions are the texts the compiler emitted
 * before they were written as lane expressions.
 */
import { describe, expect, it } from "vitest";
import { registry, type PrimitiveName } from "../src/primitives/index.js";
import { ewOps, NOT_FUSED, type ElementwiseName, type EwOp, type EwOpName } from "../src/compile/ewOps.js";
import { arg, infix, pick, prefix, renderLane, truthy } from "../src/compile/lanes.js";
import { ROUTES } from "../src/compile/routes.js";

type EwTable = { readonly [K in EwOpName]: EwOp };
/** True exactly when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type RouteTable = { readonly [K in keyof typeof ROUTES]: (typeof ROUTES)[K] };

describe("the compiler's tables are typed by primitive name", () => {
  it("declares ewOps and ROUTES with exactly the primitive names as keys (not string)", () => {
    // These fail to compile if a table were declared `Record<string, …>` (keyof is then string,
    // and a typo or a forgotten primitive would go unnoticed) or lost or gained a name.
    const ewKeys: Equal<keyof typeof ewOps, EwOpName> = true;
    const routeKeys: Equal<keyof typeof ROUTES, Exclude<PrimitiveName, ElementwiseName>> = true;
    expect([ewKeys, routeKeys]).toEqual([true, true]);
  });

  it("refuses a misspelt key and a missing entry at compile time", () => {
    // @ts-expect-error -- "tahn" is no elementwise primitive: a typo is an excess property.
    const misspelt: EwTable = { ...ewOps, tahn: ewOps.tanh };
    const { tanh: _dropped, ...withoutTanh } = ewOps;
    // @ts-expect-error -- an elementwise primitive without an entry: property 'tanh' is missing.
    const missing: EwTable = withoutTanh;
    // @ts-expect-error -- "sacn" is no primitive: the route table refuses it too.
    const badRoute: RouteTable = { ...ROUTES, sacn: "scan" };
    const { scan: _scan, ...withoutScan } = ROUTES;
    // @ts-expect-error -- a non-elementwise primitive without a route: property 'scan' is missing.
    const noRoute: RouteTable = withoutScan;
    // @ts-expect-error -- the list of deliberately unfused elementwise primitives takes real names only.
    const unfused = ["tahn"] as const satisfies readonly ElementwiseName[];
    expect([misspelt, missing, badRoute, noRoute, unfused].every((t) => typeof t === "object")).toBe(true);
  });

  it("routes every registered primitive, elementwise or not, and nothing else", () => {
    const names = Object.keys(registry);
    const fused = Object.keys(ewOps).filter((k) => k !== "copy");
    const routed = [...fused, ...NOT_FUSED, ...Object.keys(ROUTES)];
    expect([...routed].sort()).toEqual([...names].sort());
    expect(new Set(routed).size).toBe(routed.length);
  });
});

describe("lane expressions render the compiler's float JavaScript", () => {
  const x = ["x0", "x1", "x2"];
  const [a, b, c] = [arg(0), arg(1), arg(2)];
  it("renders the operators with the parentheses JavaScript needs, and no more", () => {
    expect(renderLane(infix("+", a, b), x)).toBe("x0 + x1");
    expect(renderLane(infix("-", a, infix("-", b, c)), x)).toBe("x0 - (x1 - x2)");
    expect(renderLane(infix("*", infix("+", a, b), c), x)).toBe("(x0 + x1) * x2");
    expect(renderLane(infix("===", infix("-", a, a), b), x)).toBe("x0 - x0 === x1");
    expect(renderLane(prefix("-", a), x)).toBe("(-x0)");
    expect(renderLane(prefix("Math.sqrt", a), x)).toBe("Math.sqrt(x0)");
  });

  it("gives the texts the compiler emitted before lane expressions (maximum, select, neg, sqrt)", () => {
    // The strings on the right are the hand-written JavaScript forms these ops had in ewOps.ts.
    const ins = ["float32", "float32"] as const;
    expect(ewOps.maximum.expr(x, "float64", ins, undefined)).toBe("(x0 > x1 || x0 !== x0 ? x0 : x1)");
    expect(ewOps.minimum.expr(x, "float32", ins, undefined)).toBe("fr((x0 < x1 || x0 !== x0 ? x0 : x1))");
    expect(ewOps.select.expr(x, "float32", ["bool", ...ins], undefined)).toBe("(x0 !== 0 ? x1 : x2)");
    expect(ewOps.neg.expr(x, "float32", ins, undefined)).toBe("(-x0)");
    expect(ewOps.sqrt.expr(x, "float32", ins, undefined)).toBe("fr(Math.sqrt(x0))");
    expect(ewOps.greaterEqual.expr(x, "bool", ins, undefined)).toBe("(x0 >= x1 ? 1 : 0)");
    expect(ewOps.add.expr(x, "int32", ["int32", "int32"], undefined)).toBe("((x0 + x1) | 0)");
    expect(renderLane(pick(truthy(a), b, c), x)).toBe("(x0 !== 0 ? x1 : x2)");
  });

  it("gives a lane form exactly to the ops the SIMD loop ran before, on the same dtypes", () => {
    const f32 = (n: number) => Array<"float32">(n).fill("float32");
    const lanes = Object.entries(ewOps)
      .filter(([, op]) => op.lanes !== undefined)
      .map(([name]) => name)
      .sort();
    expect(lanes).toEqual(
      [
        ...["add", "sub", "mul", "div", "copy", "neg", "abs", "sqrt", "exp", "tanh", "logistic"],
        ...["maximum", "minimum", "greater", "less", "greaterEqual", "lessEqual", "equal", "notEqual"],
        ...["select", "convert"],
      ].sort(),
    );
    expect(ewOps.add.lanes!.accepts("float32", f32(2))).toBe(true);
    expect(ewOps.add.lanes!.accepts("float64", ["float64", "float64"])).toBe(false);
    expect(ewOps.less.lanes!.accepts("bool", f32(2))).toBe(true);
    expect(ewOps.select.lanes!.accepts("float32", ["bool", ...f32(2)])).toBe(true);
    expect(ewOps.convert.lanes!.accepts("float32", ["bool"])).toBe(true);
    expect(ewOps.convert.lanes!.accepts("float32", ["float64"])).toBe(false);
  });
});
