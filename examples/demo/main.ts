/**
 * @file `pnpm start` for now: a small tour of @rewind/tensor.
 */
import { arange, fromArrayOrThrow } from "@rewind/tensor";

const x = fromArrayOrThrow([[1, 2, 3], [4, 5, 6]], "float64");
console.log("x =", x.shape, Array.from(x.data));
console.log("arange(5) =", Array.from(arange(5).data));
