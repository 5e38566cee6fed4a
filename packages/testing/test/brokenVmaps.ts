/**
 * @file A broken `vmap` for the vmap law's negative tests, shared by this package's tests and the
 * root fuzz suite: the law must catch it.
 */
import * as A from "@rewind/autodiff";
import type { VmapImpl } from "../src/index.js";

/** Example 0's result in place of the last example's: a batch rule that gets its offsets wrong. */
export const dropsLast: VmapImpl =
  (f, o) =>
  (...args) =>
    A.treeMap(
      (y) => {
        const n = y.shape[0]!;
        return A.concat([A.slice(y, [{ start: 0, stop: n - 1 }]), A.slice(y, [{ start: 0, stop: 1 }])]);
      },
      A.vmap(f, o)(...args),
    );
