// Lists every function in packages/*/src taking seven or more parameters (issue 15, item 3).
// Usage: node docs/prototypes/compiler-tables/long-params.mjs [min=7]
import ts from "typescript";
import { forEachFunction, printByCount } from "./functionScan.mjs";

const min = Number(process.argv[2] ?? 7);
const hits = [];
forEachFunction(({ file, node, name, line }) => {
  if (node.parameters.length < min) return;
  const kind = ts.isFunctionTypeNode(node) ? " (type)" : "";
  hits.push(`${node.parameters.length}\t${file}:${line}\t${name}${kind}`);
});
printByCount(hits);
console.log(`${hits.length} functions with ≥${min} parameters`);
