/**
 * @file Code for a scan: its body, compiled once, inlined into a loop that runs `length` times.
 *
 * - xs rows are read in place: body input x_t is `(xs buffer, offset + t · rowSize)`.
 * - ys rows are written in place: body output y_t's destination is row t of the stacked buffer.
 * - Each carry the body changes ping-pongs between two planned buffers A and B: step s reads
 *   `cur` (the init at step 0, never written) and writes `next`; step 0 writes A, step 1 B, and so
 *   on, so after the loop the final carry is in A for odd lengths and in B for even ones — a
 *   static location, and the other buffer goes back to the pool.
 * - A carry updated in place needs one buffer: when the step writing the new carry reads the old
 *   one only elementwise at the same position (an accumulator `acc + g_t`), and nothing reads it
 *   afterwards, the new value overwrites the old one element by element. The init is copied
 *   into that buffer once before the loop.
 * - A carry the body returns unchanged needs neither buffer: the body reads the init throughout.
 * - Work on the body's constants alone can run once before the loop (`Hoist`): a product whose b
 *   is a constant (an RNN's recurrent weight) packs it there once instead of at every step.
 * The loop is a loop: any length runs in constant stack.
 */
import type { BlockEmitter, BlockIO, Hoist } from "./block.js";
import { schedule, type Step } from "./fusion.js";
import { rootOf, valOf, type Block, type Program, type ScanNode, type VId } from "./ir.js";
import { int } from "./loopgen.js";
import { addOff, type Loc } from "./scope.js";
import { Pool } from "./pool.js";

type BodyEmitter = (body: Block, io: BlockIO, lines: string[], indent: string) => void;

const rowOffset = (l: Loc, t: string, row: number): Loc => ({
  buf: l.buf,
  off: addOff(l.off, row === 1 ? t : `${t} * ${int(row)}`),
});

/** The values a step reads from outside itself. */
const reads = (body: Block, st: Step): VId[] => {
  if (st.kind === "node") return [...st.node.ins];
  const members = new Set(st.group.members.map((i) => body.nodes[i]!.outs[0]));
  return st.group.members.flatMap((i) => body.nodes[i]!.ins.filter((u) => !members.has(u)));
};

/**
 * Whether carry k can be updated in place (see the file comment): its new value is written by
 * one step P directly; no step after P reads the old value, nor does P except elementwise (a
 * fused loop reading the old value whole, at the position it writes); and it is no output.
 */
const inPlace = (prog: Program, body: Block, steps: readonly Step[], nc: number, k: number): boolean => {
  const cin = body.inputs[nc + k]!;
  const cout = body.outputs[k]!;
  if (valOf(prog, cout).def.kind !== "root" || body.outputs.some((o) => rootOf(prog, o) === cin)) return false;
  const p = steps.findIndex((st) =>
    st.kind === "group" ? st.group.members.some((i) => body.nodes[i]!.outs[0] === cout) : st.node.outs.includes(cout),
  );
  const producer = steps[p];
  if (producer === undefined) return false;
  if (producer.kind === "node") {
    const n = producer.node;
    const direct =
      n.kind === "matmul" ||
      n.kind === "reduce" ||
      n.kind === "concat" ||
      n.kind === "index" ||
      (n.kind === "scan" && n.ysOut.includes(cout));
    if (!direct) return false;
  }
  const own = reads(body, producer).filter((u) => rootOf(prog, u) === cin);
  if (own.some((u) => u !== cin || producer.kind === "node")) return false;
  return steps.slice(p + 1).every((st) => reads(body, st).every((u) => rootOf(prog, u) !== cin));
};

/**
 * Emits the loop of `n` into the emitter's lines.
 * @example emitScan(emitter, node, (body, io, lines, indent) => emitBlock(mod, prog, body, io, lines, indent))
 */
export const emitScan = (em: BlockEmitter, n: ScanNode, emitBody: BodyEmitter): void => {
  const { body, numConsts: nc, numCarry: nk, length } = n;
  const ins = n.ins.map((u) => em.loc(u));
  const s = em.mod.fresh();
  const t = em.mod.fresh();
  const inputs: Loc[] = ins.slice(0, nc);
  const dests: Array<Loc | undefined> = [];
  const decls: string[] = [];
  const swaps: string[] = [];
  const finals: Array<{ out: number; a: number; b: number }> = [];
  const steps = schedule(em.prog, body);
  for (let k = 0; k < nk; k++) {
    const init = ins[nc + k]!;
    const out = n.carryOut[k] ?? null;
    if (out === null) {
      inputs.push(init);
      dests.push(undefined);
      continue;
    }
    const v = em.val(out);
    const a = em.allocateRaw(v.dtype, v.size);
    if (inPlace(em.prog, body, steps, nc, k)) {
      decls.push(`copy(${Pool.bufName(a)}, 0, ${init.buf}, ${init.off}, ${int(v.size)});`);
      inputs.push({ buf: Pool.bufName(a), off: "0" });
      dests.push({ buf: Pool.bufName(a), off: "0" });
      em.own(out, a);
      continue;
    }
    const b = em.allocateRaw(v.dtype, v.size);
    const [cur, curOff, next] = [em.mod.fresh(), em.mod.fresh(), em.mod.fresh()];
    decls.push(`let ${cur} = ${init.buf}, ${curOff} = ${init.off}, ${next} = ${Pool.bufName(a)};`);
    inputs.push({ buf: cur, off: curOff });
    dests.push({ buf: next, off: "0" });
    swaps.push(`${cur} = ${next}; ${curOff} = 0; ${next} = (${s} & 1) ? ${Pool.bufName(a)} : ${Pool.bufName(b)};`);
    finals.push({ out, a, b });
  }
  body.inputs.slice(nc + nk).forEach((x, i) => inputs.push(rowOffset(ins[nc + nk + i]!, t, em.val(x).size)));
  n.ysOut.forEach((y) => {
    if (y === null) {
      dests.push(undefined);
      return;
    }
    dests.push(rowOffset(em.target(y), t, em.val(y).size / length));
  });
  em.line("{");
  for (const d of decls) em.line(`  ${d}`);
  const loopAt = em.lines.length;
  em.line(`  for (let ${s} = 0; ${s} < ${int(length)}; ${s}++) {`);
  em.line(`    const ${t} = ${n.reverse ? `${int(length - 1)} - ${s}` : s};`);
  const hoist: Hoist = { invariant: new Set(body.inputs.slice(0, nc)), lines: [] };
  emitBody(body, { inputs, dests, hoist }, em.lines, `${em.indent}    `);
  em.lines.splice(loopAt, 0, ...hoist.lines.map((l) => `${em.indent}  ${l}`));
  for (const sw of swaps) em.line(`    ${sw}`);
  em.line("  }");
  em.line("}");
  for (const { out, a, b } of finals) {
    const [last, other] = length % 2 === 1 ? [a, b] : [b, a];
    em.own(out, last);
    em.mod.pool.free(other);
  }
};
