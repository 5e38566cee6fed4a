/**
 * @file The RNN laws about running a cell over time: BPTT (rnn = the unrolled loop = finite
 * differences), reverse (rnn backward = flip ∘ rnn forward ∘ flip on each valid prefix),
 * invariance (remat, unroll, truncate ≥ T and jit change nothing) and stacking
 * (`stack([a, b])` = a then b by hand). Each takes one `CellCase` and throws a violation naming
 * the law, the case and the first differing pytree path.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { rnn, type AnyCell, type RnnOptions } from "@rewind/rnn";
import { checkCellCase, dimsOf, flipValid, lossOf, type CellCase } from "./cellCase.js";
import { outcome, rnnOptions, rnnRun, type CellLawCheckOptions, type RnnImpl, type Run } from "./cellLawSetup.js";
import { expectClose, expectSameOutcome, violation, type LawCheck } from "./lawKit.js";
import { checkGrads } from "./checkGrads.js";
import { rnnUnrolled } from "./rnnUnrolled.js";

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * BPTT law: outputs, final carry, loss and gradients (w.r.t. params, initial carry and xs)
 * through `rnn` equal those through `rnnUnrolled`, the explicit loop over `cell.step`; and
 * `rnn`'s derivatives match central finite differences in float64 (`checkGrads`, order 1 by
 * default, reverse and forward mode).
 * @example bpttCheck(cellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [5, 0, 2] }))
 */
export const bpttCheck = (c: CellCase, o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.bptt", c);
  const unrolled: Run = (p, init, xs) =>
    rnnUnrolled(c.cell, p, xs, {
      initialCarry: init,
      timeMajor: c.timeMajor,
      reverse: c.reverse,
      ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
      ...(c.key === undefined ? {} : { key: c.key }),
    });
  const run = rnnRun(c, o);
  expectSameOutcome("BPTT", c, "rnn vs the unrolled loop", outcome(run, c), outcome(unrolled, c), o);
  const loss = (p: unknown, init: unknown, xs: A.Value) => lossOf(run(p, init, xs));
  try {
    checkGrads(loss, [c.params, c.initialCarry, c.xs], { order: o.order ?? 1, modes: o.modes ?? ["rev", "fwd"] });
  } catch (e) {
    violation("BPTT", c, `rnn's derivatives vs central finite differences: ${message(e)}`);
  }
};

/**
 * Reverse law: `rnn(…, { reverse: r })` equals flipping each sample's valid prefix of xs,
 * running with `reverse: ¬r`, and flipping the outputs back (values and gradients). The flip is
 * the law's own (slices and `flip`), so a wrong `reverseValid` cannot hide behind itself.
 * @example reverseCheck(cellCase(gru, { sizes: { inputSize: 2, hiddenSize: 3 }, reverse: true }))
 */
export const reverseCheck = (c: CellCase, o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.reverse", c);
  const impl: RnnImpl = o.rnn ?? rnn;
  const other = { ...c, reverse: !c.reverse };
  const flipped: Run = (p, init, xs) => {
    const r = impl(c.cell, p, flipValid(xs, c.lengths, c.timeMajor), rnnOptions(other, init));
    return { outputs: flipValid(r.outputs, c.lengths, c.timeMajor), finalCarry: r.finalCarry };
  };
  const what = `rnn(reverse: ${c.reverse}) vs flip ∘ rnn(reverse: ${!c.reverse}) ∘ flip`;
  expectSameOutcome("reverse", c, what, outcome(rnnRun(c, o), c), outcome(flipped, c), o);
};

const shift = <U>(tree: U): U =>
  A.treeMap((x) => (T.isFloating(x.dtype) ? T.add(T.mul(x as T.Tensor, 0.5), 0.125) : x), tree);

/**
 * Invariance law: the memory and speed options never change values or gradients. Against plain
 * `rnn`: remat "carries", `{ every: k }`, `unroll: k` and `true`, `truncate` ≥ T; and
 * `jit(loss)` gives the loss (also on a second call with other values, which reuses the trace),
 * `grad(jit(loss))` and `jit(grad(loss))` give its gradient.
 * @example invarianceCheck(cellCase(mgu, { sizes: { inputSize: 2, hiddenSize: 3 } }), { segments: [2] })
 */
export const invarianceCheck = (c: CellCase, o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.invariance", c);
  const { time } = dimsOf(c);
  const ref = outcome(rnnRun(c, o), c);
  const variants: Array<[string, Partial<RnnOptions<unknown>>]> = [
    ['remat "all"', { remat: "all" }],
    ['remat "carries"', { remat: "carries" }],
  ];
  const segments = [...new Set(o.segments ?? [1, 2, time + 1])].filter((k) => Number.isSafeInteger(k) && k > 0);
  for (const k of segments)
    variants.push([`remat { every: ${k} }`, { remat: { every: k } }], [`unroll ${k}`, { unroll: k }]);
  variants.push(["unroll true", { unroll: true }]);
  for (const k of new Set([Math.max(1, time), time + 3])) variants.push([`truncate ${k} ≥ T`, { truncate: k }]);
  for (const [what, extra] of variants)
    expectSameOutcome("invariance", c, `${what} vs plain rnn`, outcome(rnnRun(c, o, extra), c), ref, o);

  const jit = o.jit ?? A.jit;
  const loss = (p: unknown, init: unknown, xs: A.Value): A.Value => lossOf(rnnRun(c, o)(p, init, xs));
  const jitted = jit(loss);
  const args = [c.params, c.initialCarry, c.xs] as const;
  const other = [shift(c.params), shift(c.initialCarry), shift(c.xs)] as const;
  const check: LawCheck = { law: "invariance", instance: c, options: o };
  expectClose(check, "jit(loss) vs loss", jitted(...args), ref.loss, "loss");
  expectClose(check, "jit(loss) vs loss on other values of the same shapes", jitted(...other), loss(...other), "loss");
  const argnums = T.isFloating(c.xs.dtype) ? [0, 1, 2] : [0, 1];
  const gradOf = (f: typeof loss) => A.grad(f, { argnums });
  const expected = gradOf(loss)(...args);
  expectClose(check, "grad(jit(loss)) vs grad(loss)", gradOf(jitted)(...args), expected, "grad");
  expectClose(check, "jit(grad(loss)) vs grad(loss)", jit(gradOf(loss))(...args), expected, "grad");
};

/**
 * Stacking law: a stack of `[a, b]` (whose case has parameters and carry `[a's, b's]`) gives the
 * outputs, final carries and gradients of running `a` over xs and then `b` over a's outputs, by
 * hand with `rnn`. It runs without the case's key: how a stack splits its noise between its
 * layers is its own business.
 * @example stackingCheck(cellCase(stack([lstm, gru]), { sizes: { inputSize: 2, hiddenSize: 3 } }), [lstm, gru])
 */
export const stackingCheck = (c: CellCase, layers: readonly [AnyCell, AnyCell], o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.stacking", c);
  const impl: RnnImpl = o.rnn ?? rnn;
  const { key: _key, ...unkeyed } = c;
  const pair = (what: string, v: unknown): readonly [unknown, unknown] => {
    if (!Array.isArray(v) || v.length !== 2)
      violation(
        "stacking",
        unkeyed,
        `${c.cell.name}'s ${what} must be [layer a's, layer b's], ` +
          `got ${Array.isArray(v) ? `${v.length} entries` : typeof v}`,
      );
    return v as [unknown, unknown];
  };
  pair("params", c.params);
  pair("initial carry", c.initialCarry);
  const byHand: Run = (ps, cs, xs) => {
    const [pa, pb] = pair("params", ps);
    const [ca, cb] = pair("initial carry", cs);
    const ra = impl(layers[0], pa, xs, rnnOptions(unkeyed, ca));
    const rb = impl(layers[1], pb, ra.outputs, rnnOptions(unkeyed, cb));
    return { outputs: rb.outputs, finalCarry: [ra.finalCarry, rb.finalCarry] };
  };
  const what = `${c.cell.name} vs ${layers[0].name} then ${layers[1].name} by hand`;
  expectSameOutcome("stacking", unkeyed, what, outcome(rnnRun(unkeyed, o), unkeyed), outcome(byHand, unkeyed), o);
};
