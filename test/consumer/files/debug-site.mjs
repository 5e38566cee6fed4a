// A traced op's report names the line of this file that made it, not a file of the installed
// packages (node_modules/@rewind/*/dist): a NaN under withDebugNans, and an op toOnnx cannot export
// that another package (@rewind/workers) applies.
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { psum } from "@rewind/workers";
import { toOnnx } from "@rewind/onnx";

const here = /debug-site\.mjs:\d+/;
const messageOf = (thunk) => {
  try {
    thunk();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error("expected an error");
};

const nan = messageOf(() => A.withDebugNans(() => A.jit((x) => A.log(A.neg(x)))(T.tensor([1, 2]))));
const exported = messageOf(() => toOnnx((x) => psum(x), [T.tensor([1, 2])]));
for (const [what, message] of [
  ["debugNans", nan],
  ["toOnnx", exported],
]) {
  const line = /traced at (.*)/.exec(message)?.[1] ?? "";
  console.log(`${what}: ${here.test(line) && !line.includes("node_modules") ? "names this file" : `names ${line}`}`);
}
