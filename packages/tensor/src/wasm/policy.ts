/**
 * @file Whether the engine lets this program generate code at run time, probed lazily (once per
 * kind) and reported once. Two kinds:
 * - `"eval"`: JavaScript from strings, the `new Function` of jit's compiler. A page whose
 *   Content-Security-Policy lacks 'unsafe-eval' refuses it (an EvalError); so does Node run with
 *   `--disallow-code-generation-from-strings`.
 * - `"wasm"`: WebAssembly compiled from bytes, for the float32 kernels and jit's SIMD loops. A CSP
 *   with neither 'wasm-unsafe-eval' nor 'unsafe-eval' refuses it (a CompileError).
 *
 * A refusal never changes a result: jit then runs the interpreter and the kernels their
 * JavaScript paths, which give the same bits. Nothing is probed at import time (under a CSP each
 * refused probe fires a `securitypolicyviolation` event and may post a report): a kind is probed
 * the first time a caller is about to generate that kind of code. The first refusal found
 * probes the other kind too (unless the program opted out of it, see `declineCodegen`) so that one
 * warning names both; a refusal found later still gets its own warning, once.
 */
import { wasmApi } from "./api.js";

/** The kinds of run-time code generation Rewind uses. */
export type Codegen = "eval" | "wasm";
const KINDS: readonly Codegen[] = ["eval", "wasm"];

/** Per kind: undefined until probed, then whether the engine refused it. */
const refused: { eval: boolean | undefined; wasm: boolean | undefined } = { eval: undefined, wasm: undefined };
/** Kinds the program opted out of (`setJitMode("interpret")`, `setKernelBackend("js")`): never cross-probed. */
const declined = { eval: false, wasm: false };
/** Refusals already named in a warning. */
const reported = { eval: false, wasm: false };

const PROBES: Readonly<Record<Codegen, () => boolean>> = {
  eval: () => {
    try {
      // `Function` is read from the global object now, so a test's stub is what gets probed. The
      // empty function is called so that no minifier drops the probe as unused.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the probe: an empty body
      (new Function("") as () => void)();
      return false;
    } catch {
      return true;
    }
  },
  wasm: () => {
    const api = wasmApi();
    // An engine without WebAssembly refuses nothing: its callers see it is absent and use JavaScript silently.
    if (api === undefined) return false;
    try {
      // An empty module (magic number and version): the cheapest bytes to compile.
      new api.Module(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
      return false;
    } catch {
      return true;
    }
  },
};

/** What each refusal means, and the setting that opts out of it. */
const CAUSES: Readonly<
  Record<Codegen, { readonly what: string; readonly effect: string; readonly allow: string; readonly silence: string }>
> = {
  eval: {
    what:
      "generating JavaScript from strings (a Content-Security-Policy without 'unsafe-eval', " +
      "or node --disallow-code-generation-from-strings)",
    effect: "jit runs its graphs with the interpreter",
    allow: "'unsafe-eval'",
    silence: 'setJitMode("interpret") from @rewind/autodiff',
  },
  wasm: {
    what: "compiling WebAssembly (a Content-Security-Policy without 'wasm-unsafe-eval')",
    effect: "the float32 kernels and jit's loops run their JavaScript paths",
    allow: "'wasm-unsafe-eval'",
    silence: 'setKernelBackend("js") from @rewind/tensor',
  },
};

/**
 * The warning for these refusals: what is refused, what runs instead, that results are unchanged,
 * how to get the speed back and how to silence it.
 * @example codegenWarning(["eval"]) // "Rewind: this engine forbids generating JavaScript from strings (…)"
 */
export const codegenWarning = (kinds: readonly Codegen[]): string => {
  const cs = kinds.map((k) => CAUSES[k]);
  return (
    `Rewind: this engine forbids ${cs.map((c) => c.what).join(" and ")}, ` +
    `so ${cs.map((c) => c.effect).join(" and ")}. ` +
    "Results are the same bit for bit, only slower. " +
    `For full speed, allow ${cs.map((c) => c.allow).join(" and ")} in the page's script-src; ` +
    `to silence this warning, call ${cs.map((c) => c.silence).join(" and ")} at start-up.`
  );
};

/**
 * Warns once about every refusal known and not yet reported, after probing the kinds not yet
 * probed (unless declined).
 */
const report = (): void => {
  for (const k of KINDS) if (refused[k] === undefined && !declined[k]) refused[k] = PROBES[k]();
  const fresh = KINDS.filter((k) => refused[k] === true && !reported[k]);
  if (fresh.length === 0) return;
  for (const k of fresh) reported[k] = true;
  console.warn(codegenWarning(fresh));
};

/**
 * Whether the engine refuses this kind of code generation. Probes it the first time (one
 * `new Function("")` or one empty WebAssembly module), then answers from the cache; a refusal
 * found by the probe is reported with `console.warn`, once per process.
 * @example if (codegenRefused("eval")) return interpret(graph);
 */
export const codegenRefused = (kind: Codegen): boolean => {
  const known = refused[kind];
  if (known !== undefined) return known;
  const now = PROBES[kind]();
  refused[kind] = now;
  if (now) report();
  return now;
};

/**
 * Records that the program opted out of a kind of code generation (or back in), so that a
 * refusal of the other kind does not probe this one: an opted-out program would not use it, and
 * under a CSP the probe itself fires a violation event.
 * @example declineCodegen("wasm", true) // setKernelBackend("js")
 */
export const declineCodegen = (kind: Codegen, decline: boolean): void => {
  declined[kind] = decline;
};

/**
 * @internal For tests: forgets every probe, opt-out and report, as in a fresh process (the
 * kernels' compiled modules are not affected: a test that needs them gone reloads the modules).
 * @example resetCodegenProbes()
 */
export const resetCodegenProbes = (): void => {
  for (const k of KINDS) {
    refused[k] = undefined;
    declined[k] = false;
    reported[k] = false;
  }
};
