import * as A from "@rewind/autodiff";
import { applyUpdates } from "@rewind/optim";
import { writeFileSync } from "node:fs";
import { loss, setup } from "./charRnnStep.js";
const s = setup();
const step = (params: any, optState: any, carry: any, x: any, y: any) => {
  const [[value, aux], grads] = A.valueAndGrad(loss, { hasAux: true })(params, carry, x, y) as any;
  const [updates, next] = s.optimizer.update(grads, optState, params);
  return { params: applyUpdates(params, updates), optState: next, loss: value, aux };
};
const { graph } = A.makeGraph(step as any)(s.params, s.optState, s.carry, s.x, s.y);
const run = A.compileGraph(graph);
writeFileSync("/tmp/one_src.js", run.source);
console.log(run.source.length);
