/**
 * @file How `jit` runs graphs, for the whole process: compiled (the default) or interpreted —
 * Rewind's `jax.config.update("jax_disable_jit", True)`. The interpreter is the reference path:
 * same results bit for bit, slower. It is also what a compiled `jit` falls back to where the engine
 * refuses to generate JavaScript (a Content-Security-Policy without 'unsafe-eval'), with one warning;
 * choosing it here says the fallback is intended and silences that warning.
 */
import { codegenRefused, declineCodegen } from "@rewind/tensor/internal/codegen";
import { graphFail } from "../errors.js";

/**
 * How `jit` runs graphs on tensors: `"compile"` (default) generates one JavaScript function per
 * input signature, or interprets where the engine refuses to generate code (one warning);
 * `"interpret"` always runs the interpreter, never generating code (a strict CSP's choice).
 */
export type JitMode = "compile" | "interpret";

/** @internal Read by every jitted call (one property read). */
export const jitState: { interpret: boolean } = { interpret: false };

/**
 * @internal Whether the engine lets `jit` generate JavaScript: probed once, at the first compile
 * (a refusal warns once, see @rewind/tensor's `wasm/policy.ts`), then cached.
 */
export const engineCompiles = (): boolean => !codegenRefused("eval");

/**
 * Sets how `jit` runs graphs (see `JitMode`) and returns the previous mode, to restore it. Takes
 * effect at the next call of every jitted function, already compiled or not; results never change.
 * `jit(f, { compile: false })` interprets one function only.
 * @throws GraphException (`InvalidArgument`) for anything but `"compile"` or `"interpret"`.
 * @example
 * // A page whose Content-Security-Policy forbids 'unsafe-eval': interpret, with no warning.
 * setJitMode("interpret");
 * const before = setJitMode("compile"); // before === "interpret"
 */
export const setJitMode = (next: JitMode): JitMode => {
  if (next !== "compile" && next !== "interpret") {
    const got =
      typeof next === "string" ? JSON.stringify((next as string).slice(0, 40)) : next === null ? "null" : typeof next;
    graphFail({
      _tag: "InvalidArgument",
      op: "setJitMode",
      arg: "mode",
      detail: `unknown mode ${got}`,
      fix: 'use "compile" (the default) or "interpret"',
    });
  }
  const before: JitMode = jitState.interpret ? "interpret" : "compile";
  jitState.interpret = next === "interpret";
  // An interpreting program generates no JavaScript: a refused WebAssembly compilation then does not probe it.
  declineCodegen("eval", jitState.interpret);
  return before;
};

/**
 * The current `jit` mode.
 * @example getJitMode() // "compile"
 */
export const getJitMode = (): JitMode => (jitState.interpret ? "interpret" : "compile");
