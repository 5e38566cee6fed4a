/**
 * @file The check of the arrays a caller passes a compiled runner to write its outputs into. The
 * generated code writes them without bounds checks and reads its inputs while it writes, so an
 * array of the wrong class or length would lose or mistype results, and one sharing memory with
 * an input (or with another output) would be read after it was overwritten: refused, naming it.
 */
import type { Tensor, WritableTypedArray } from "@rewind/tensor";
import { BUFFER_CLASS } from "@rewind/tensor/internal/check";
import { describeAval, type Graph } from "../Graph.js";
import { graphFail } from "../errors.js";

const fix = "pass, per output, undefined or a fresh typed array of that output's dtype and size that nothing else uses";

/**
 * Throws unless `outs` holds, per output of `graph`, undefined or a typed array of its class and
 * length whose buffer no input and no other entry uses. O(inputs + outputs), only when arrays
 * are passed.
 * @example checkOutputArrays(graph, inputs, [new Float32Array(3)])
 */
export const checkOutputArrays = (
  graph: Graph,
  ins: readonly Tensor[],
  outs: ReadonlyArray<WritableTypedArray | undefined>,
): void => {
  const want = graph.outAvals;
  // Typed, unlike `Array.isArray`, which narrows a readonly array to `any[]`.
  const isList = (x: unknown): x is readonly unknown[] => Array.isArray(x);
  if (!isList(outs) || outs.length > want.length) {
    const got = isList(outs) ? `${outs.length} arrays` : typeof outs;
    graphFail({
      _tag: "InvalidArgument",
      op: "compileGraph",
      arg: "outs",
      detail: `the graph has ${want.length} outputs, got ${got}`,
      fix,
    });
  }
  // Each buffer looked up once (sets, not a pass over the inputs and outputs per output: a
  // training step donates dozens of arrays, and this runs at every call).
  const inputBuffers = new Set<ArrayBufferLike>();
  for (const t of ins) inputBuffers.add(t.data.buffer);
  const outputUses = new Map<unknown, number>();
  for (const o of outs) {
    const buffer = (o as { buffer?: unknown } | undefined)?.buffer;
    if (buffer !== undefined) outputUses.set(buffer, (outputUses.get(buffer) ?? 0) + 1);
  }
  for (let j = 0; j < outs.length; j++) {
    const o = outs[j] as unknown;
    if (o === undefined) continue;
    const aval = want[j]!;
    const size = aval.shape.reduce((p, d) => p * d, 1);
    const problem = !(o instanceof BUFFER_CLASS[aval.dtype])
      ? `it is not a ${BUFFER_CLASS[aval.dtype].name}`
      : o.length !== size
        ? `it holds ${o.length} elements`
        : inputBuffers.has(o.buffer)
          ? "it shares its buffer with an input"
          : outputUses.get(o.buffer)! > 1
            ? "it shares its buffer with another output array"
            : undefined;
    if (problem !== undefined) {
      graphFail({
        _tag: "InvalidArgument",
        op: "compileGraph",
        arg: `outs[${j}]`,
        detail: `output ${j} is ${describeAval(aval)}, but ${problem}`,
        fix,
      });
    }
  }
};
