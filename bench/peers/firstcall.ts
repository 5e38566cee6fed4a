/**
 * @file First-call time of the jitted LSTM training step, in a fresh process:
 * `tsx bench/peers/firstcall.ts rewind|jax` prints one JSON line.
 *
 * `run.ts` starts this script once per sample, alternating frameworks, because "first call"
 * only means something in a fresh state: in a process that has already run the step, V8's
 * compiled code, jax-js's kernel cache and Rewind's trace cache would all be warm. Only the
 * framework measured is imported. What is timed: the first call of a newly made
 * `jit(valueAndGrad(loss))` on concrete data, until its loss is read and gradients are ready —
 * tracing, differentiation, compilation and one execution. Module import and jax-js's `init`
 * (starting its wasm runtime) happen before and are reported separately. Steady-state calls
 * follow, so "first − steady" estimates the compile cost alone.
 */
import { makeLstmData } from "./data.js";

/** What one fresh-process measurement produced, in ms. */
export interface FirstCall {
  readonly framework: "rewind" | "jax";
  readonly importMs: number;
  readonly initMs: number;
  readonly firstMs: number;
  readonly secondMs: number;
  /** Minimum of a few later calls. */
  readonly steadyMs: number;
}

const STEADY_CALLS = 3;

const measureRewind = async (): Promise<FirstCall> => {
  const t0 = performance.now();
  const { jit, valueAndGrad } = await import("@rewind/autodiff");
  const { rewindLstmParts } = await import("./rewind.js");
  const importMs = performance.now() - t0;
  const { model, loss } = rewindLstmParts(makeLstmData());
  const step = jit(valueAndGrad(loss));
  const call = (): number => {
    const s = performance.now();
    step(model); // eager: the results exist when the call returns
    return performance.now() - s;
  };
  const firstMs = call();
  const secondMs = call();
  const steady = Array.from({ length: STEADY_CALLS }, call);
  return { framework: "rewind", importMs, initMs: 0, firstMs, secondMs, steadyMs: Math.min(...steady) };
};

const measureJax = async (): Promise<FirstCall> => {
  const t0 = performance.now();
  const jax = await import("./jaxjs.js");
  const importMs = performance.now() - t0;
  const initMs = await jax.initJax();
  const arrays = jax.jaxLstmArrays(makeLstmData());
  const step = jax.jaxLstmStepFn();
  const call = async (): Promise<number> => {
    const s = performance.now();
    const { grads } = await jax.jaxLstmCall(step, arrays);
    const ms = performance.now() - s;
    for (const g of Object.values(grads)) g.dispose();
    return ms;
  };
  const firstMs = await call();
  const secondMs = await call();
  const steady: number[] = [];
  for (let i = 0; i < STEADY_CALLS; i++) steady.push(await call());
  return { framework: "jax", importMs, initMs, firstMs, secondMs, steadyMs: Math.min(...steady) };
};

const which = process.argv[2];
if (which !== "rewind" && which !== "jax") {
  console.error("usage: tsx bench/peers/firstcall.ts rewind|jax");
  process.exit(2);
}
const result = which === "rewind" ? await measureRewind() : await measureJax();
process.stdout.write(`FIRSTCALL ${JSON.stringify(result)}\n`);
