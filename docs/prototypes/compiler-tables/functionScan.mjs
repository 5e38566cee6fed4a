// The shared walk of long-functions.mjs and long-params.mjs: every function-like node in
// packages/*/src/**/*.ts (declarations excluded), with the name it is known by.
import ts from "typescript";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const sourceFiles = () => {
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
      /* a package without src */
    }
  }
  return files;
};

/** Calls `visit({ file, sf, node, name, line })` for every function-like node of the packages' sources. */
export const forEachFunction = (visit) => {
  for (const file of sourceFiles()) {
    const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const walk = (n) => {
      if (ts.isFunctionLike(n)) {
        let name = n.name?.getText(sf);
        if (name === undefined && ts.isVariableDeclaration(n.parent)) name = n.parent.name.getText(sf);
        if (name === undefined && ts.isPropertyAssignment(n.parent)) name = n.parent.name.getText(sf);
        const line = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
        visit({ file, sf, node: n, name: name ?? "<anonymous>", line });
      }
      ts.forEachChild(n, walk);
    };
    walk(sf);
  }
};

/** Prints `hits` ("count\twhere\tname" lines), largest count first. */
export const printByCount = (hits) => {
  hits.sort((a, b) => parseInt(b) - parseInt(a) || a.localeCompare(b));
  console.log(hits.join("\n"));
};
