// Lists every function in packages/*/src of `min` or more lines, nested functions included (issue 15, item 5).
// Usage: node docs/prototypes/compiler-tables/long-functions.mjs [min=80]
import { forEachFunction, printByCount } from "./functionScan.mjs";

const min = Number(process.argv[2] ?? 80);
const hits = [];
forEachFunction(({ file, sf, node, name, line }) => {
  if (!node.body) return;
  const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
  if (end - line + 1 >= min) hits.push(`${end - line + 1}\t${file}:${line}\t${name}`);
});
printByCount(hits);
console.log(`${hits.length} functions with ≥${min} lines`);
