/**
 * @file Parameter and option checks shared by the attention combinators.
 */
import * as T from "@rewind/tensor";
import { describeKeys } from "@rewind/tensor/internal/check";
import { isValue } from "@rewind/autodiff";
import { checkFlag, checkFunction, checkOptions } from "../util.js";

/**
 * A checker of `{ cell, attention: { <names> } }` parameters, naming `op` and what is missing.
 * @example attentionParts("additiveAttention(gru)", ["query", "key", "v"])(params).attention.v
 */
export const attentionParts =
  <P, W>(op: string, names: readonly string[]) =>
  (p: { readonly cell: P; readonly attention: W }): { readonly cell: P; readonly attention: W } => {
    const w = typeof p === "object" && p !== null ? (p as { attention?: unknown }).attention : undefined;
    const ok =
      typeof p === "object" &&
      p !== null &&
      "cell" in p &&
      typeof w === "object" &&
      w !== null &&
      names.every((k) => isValue((w as Record<string, unknown>)[k]));
    if (!ok) {
      T.fail({
        _tag: "ValueError",
        op,
        arg: "params",
        detail:
          `params must be { cell, attention: { ${names.join(", ")} } } with tensor weights, ` +
          `got ${describeKeys(p)}${typeof w === "object" && w !== null ? ` with attention ${describeKeys(w)}` : ""}`,
        fix: `pass the parameters ${op}.init returned`,
      });
    }
    return p;
  };

/**
 * Throws unless `options` holds only the known keys, with `query` a function and `weights` a
 * boolean if given; returns whether the weights are asked for.
 * @example checkAttentionOptions("additiveAttention", { query: (c) => c.h }, true)
 */
export const checkAttentionOptions = (op: string, options: unknown, hasQuery: boolean): boolean => {
  checkOptions(op, "options", options, hasQuery ? ["query", "weights"] : ["weights"]);
  const o = options as { query?: unknown; weights?: unknown };
  if (hasQuery) checkFunction(op, "options.query", o.query, true);
  checkFlag(op, "options.weights", o.weights);
  return o.weights === true;
};
