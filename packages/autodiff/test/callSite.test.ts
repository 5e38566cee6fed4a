/**
 * @file Which stack frames are Rewind's own (`isRewindFrame`): a traced equation is attributed to
 * the first frame that is not, the user's line, in `debugNans` reports and ONNX export errors.
 * Installed packages are matched by their scope; the consumer test (test/consumer/files/
 * debug-site.mjs) checks the attribution end to end on the installed tarballs.
 */
import { describe, expect, it } from "vitest";
import { isRewindFrame } from "../src/core.js";

describe("isRewindFrame", () => {
  it.each([
    "at add (/work/rewind/packages/autodiff/src/ops/binary.ts:10:5)",
    "at sumLeaves (/app/node_modules/@rewind/workers/dist/collective.js:206:35)",
    "at bind (C:\\rewind\\packages\\tensor\\src\\kernels\\unary.ts:40:3)",
    "at lstmCell (C:\\app\\node_modules\\@rewind\\rnn\\dist\\cells\\lstm.js:40:3)",
    "at step (/app/node_modules/@rewind/optim/dist/adam.js:12:9)",
    "at f (/app/node_modules/.pnpm/@rewind+autodiff@0.4.0/node_modules/@rewind/autodiff/dist/core.js:1:1)",
  ])("is Rewind's: %s", (line) => expect(isRewindFrame(line)).toBe(true));

  it.each([
    "at loss (/home/me/train.ts:12:7)",
    "at <anonymous> (/work/rewind/examples/char-rnn/train.ts:3:1)",
    "at test (/work/rewind/packages/autodiff/test/grad.test.ts:5:1)",
    // A user's own monorepo package is not Rewind's, whatever its folder is called.
    "at model (/home/me/repo/packages/model/src/net.ts:8:2)",
    "at net (/home/me/repo/packages/rnn/src/net.ts:8:2)",
    "at g (/app/node_modules/@other/autodiff/dist/core.js:1:1)",
  ])("is the user's: %s", (line) => expect(isRewindFrame(line)).toBe(false));
});
