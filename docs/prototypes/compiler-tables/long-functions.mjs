// Lists every function in packages/*/src of `min` or more lines, nested functions included (issue 15, item 5).
// Usage: node docs/prototypes/compiler-tables/long-functions.mjs [min=80]
import ts from "typescript";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
const min = Number(process.argv[2] ?? 80);
const files = [];
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) files.push(p);
  }
};
for (const pkg of readdirSync("packages")) {
  try {
    walk(join("packages", pkg, "src"));
  } catch {
    /* no src */
  }
}
const hits = [];
for (const f of files) {
  const sf = ts.createSourceFile(f, readFileSync(f, "utf8"), ts.ScriptTarget.Latest, true);
  const visit = (n) => {
    if (ts.isFunctionLike(n) && n.body) {
      let name = n.name?.getText(sf);
      if (name === undefined && ts.isVariableDeclaration(n.parent)) name = n.parent.name.getText(sf);
      if (name === undefined && ts.isPropertyAssignment(n.parent)) name = n.parent.name.getText(sf);
      const a = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
      const b = sf.getLineAndCharacterOfPosition(n.getEnd()).line + 1;
      if (b - a + 1 >= min) hits.push(`${b - a + 1}\t${f}:${a}\t${name ?? "<anonymous>"}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
hits.sort((a, b) => parseInt(b) - parseInt(a) || a.localeCompare(b));
console.log(hits.join("\n"));
console.log(`${hits.length} functions with ≥${min} lines`);
