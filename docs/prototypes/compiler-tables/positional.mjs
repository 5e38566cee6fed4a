// Rewrites generated sources from the descriptor calls back to the positional calls they replaced
// (and drops the one-line `M` destructuring), so `diff -r` can show that nothing else changed:
//   node docs/prototypes/compiler-tables/positional.mjs <dump dir> <out dir>
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [from, to] = process.argv.slice(2);
mkdirSync(to, { recursive: true });
const ORDER = {
  mm: ["out", "outOffset", "a", "aOffset", "b", "bOffset", "m", "k", "n", "transA", "transB"],
  takeInto: ["out", "outOffset", "x", "xOffset", "indices", "indicesOffset", "count", "outer", "size", "inner"],
  addAtInto: [
    ...["out", "outOffset", "x", "xOffset", "indices", "indicesOffset", "values", "valuesOffset"],
    ...["count", "outer", "size", "inner"],
  ],
  gatherInto: [
    ...["out", "outOffset", "x", "xOffset", "indices", "indicesOffset", "count"],
    ...["base", "which", "axisStride", "size"],
  ],
  addAlongInto: [
    ...["out", "outOffset", "x", "xOffset", "indices", "indicesOffset", "count", "values", "valuesOffset"],
    ...["base", "which", "axisStride", "size", "n"],
  ],
};
ORDER.mma = ORDER.mm;
for (const f of readdirSync(from)) {
  let s = readFileSync(join(from, f), f.endsWith(".js") ? "utf8" : null);
  if (f.endsWith(".js")) {
    s = s.replace("const { P, C, S, H, W, AB, HF, HB, mma } = M;\n", "");
    s = s.replace(/\b(mma?|takeInto|addAtInto|gatherInto|addAlongInto)\(\{ ([^}]*) \}\)/g, (_, name, body) => {
      const fields = Object.fromEntries(body.split(", ").map((kv) => kv.split(": ")));
      return `${name}(${ORDER[name].map((k) => fields[k]).join(", ")})`;
    });
  }
  writeFileSync(join(to, f), s);
}
