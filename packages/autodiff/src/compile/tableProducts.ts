/**
 * @file A float32 product whose rows are rows gathered from a table, `take(E, ids) · W` (an
 * embedding followed by a linear map: a language model's input projection, which an RNN's scan
 * lifts out of its loop), becomes the table's product gathered: `take(E · W, ids)`.
 *
 * Why: with more ids than table rows the product multiplies the same rows again and again. The
 * char-rnn step of `pnpm start` (2048 ids of a vocabulary of 89, embedding 32, gates 512) spent
 * 1.1 ms of its 25 on a 2048 × 32 × 512 product that is an 89 × 32 × 512 one and a gather.
 *
 * Same bits: the float32 kernels compute every output row on its own, each element from +0 adding
 * its k products in order (tensor/src/wasm/matmulWasm.ts), so row `ids[r]` of `E · W` is row r of
 * `take(E, ids) · W`. The gathered rows may pass through a copy that only reorders them (a batch-
 * major sequence read time-major). The rewrite is made only where the original gather is still
 * computed for another reader (a training step's weight gradient reads it), so that an id out of
 * range fails there first, with the error naming the table the user passed.
 */
import { addVal, valOf, type Block, type Node, type Program, type StridedView, type VId } from "./ir.js";
import { identityView, isContiguous, partsOf } from "./views.js";

type MatmulNode = Extract<Node, { kind: "matmul" }>;

/** Where the rows of a product's `a` come from: the take, and the view of its ids giving them in order. */
interface Rows {
  readonly take: Extract<Node, { kind: "index" }>;
  /** The ids in the order of a's rows, as a view of the ids' storage (shape: the rows' axes). */
  readonly ids: { readonly root: VId; readonly view: StridedView };
  /** The value holding a's rows (the take's output, or the copy reordering them). */
  readonly held: VId;
}

/** Whether `v` reads its root's storage `[rows, d]` whole, in order. */
const wholeRows = (prog: Program, id: VId): boolean => {
  const { root, view, guard } = partsOf(prog, id);
  const shape = valOf(prog, id).shape;
  return (
    guard === undefined &&
    shape.length === 2 &&
    view.offset === 0 &&
    isContiguous(view) &&
    valOf(prog, root).size === shape[0]! * shape[1]!
  );
};

/** The rows of the product's `a`, when they are rows of a 2-D float32 table gathered by `take` along axis 0. */
const gatheredRows = (prog: Program, a: VId, producer: Map<VId, Node>): Rows | undefined => {
  if (!wholeRows(prog, a)) return undefined;
  const held = partsOf(prog, a).root;
  const d = valOf(prog, a).shape[1]!;
  const isTake = (n: Node | undefined): n is Rows["take"] =>
    n?.kind === "index" && n.op === "take" && n.axis === 0 && valOf(prog, n.ins[0]!).shape.length === 2;
  const direct = producer.get(held);
  let take: Rows["take"];
  let lead: StridedView;
  if (isTake(direct)) {
    take = direct;
    lead = identityView(valOf(prog, direct.ins[1]!).shape);
  } else {
    // A copy of a view of the take's output that keeps each row whole and only reorders rows.
    if (direct?.kind !== "ew" || direct.op !== "copy") return undefined;
    const { root, view, guard } = partsOf(prog, direct.ins[0]!);
    const source = producer.get(root);
    const r = view.shape.length - 1;
    const rowsOnly =
      view.shape[r] === d &&
      view.strides[r] === 1 &&
      view.offset % d === 0 &&
      view.strides.every((s, i) => i === r || s % d === 0);
    if (!isTake(source) || guard !== undefined || !rowsOnly) return undefined;
    take = source;
    lead = {
      shape: view.shape.slice(0, r),
      strides: view.strides.slice(0, r).map((s) => s / d),
      offset: view.offset / d,
    };
  }
  // a's rows must be the table's rows: not halves of them (a reshape), nor a window of columns.
  if (valOf(prog, take.ins[0]!).shape[1] !== d) return undefined;
  const ids = partsOf(prog, take.ins[1]!);
  if (ids.guard !== undefined || !isContiguous(ids.view)) return undefined;
  return { take, held, ids: { root: ids.root, view: { ...lead, offset: lead.offset + ids.view.offset } } };
};

/** Per value, the nodes reading it or a view of it, and whether a block output does. */
const readersOf = (prog: Program, block: Block): Map<VId, Set<Node | "output">> => {
  const readers = new Map<VId, Set<Node | "output">>();
  const add = (u: VId, who: Node | "output"): void => {
    for (const id of new Set([u, partsOf(prog, u).root])) {
      const set = readers.get(id) ?? new Set();
      set.add(who);
      readers.set(id, set);
    }
  };
  block.outputs.forEach((o) => add(o, "output"));
  for (const n of block.nodes) n.ins.forEach((u) => add(u, n));
  return readers;
};

/** The nodes computing `p` as a gathered table product, or undefined where the rewrite does not apply. */
const asTableProduct = (
  prog: Program,
  p: MatmulNode,
  producer: Map<VId, Node>,
  readers: Map<VId, Set<Node | "output">>,
): Node[] | undefined => {
  const [a, b] = p.ins;
  const out = valOf(prog, p.outs[0]);
  if (out.dtype !== "float32" || out.shape.length !== 2 || valOf(prog, b).dtype !== "float32") return undefined;
  const rows = gatheredRows(prog, a, producer);
  if (rows === undefined) return undefined;
  const table = rows.take.ins[0]!;
  const [tableRows] = valOf(prog, table).shape as [number, number];
  const n = out.shape[0]!;
  // Only a gain with more rows than the table has; only safe while the take still runs for another reader.
  const others = [...(readers.get(rows.held) ?? [])].filter((r) => r !== p);
  if (valOf(prog, table).dtype !== "float32" || n <= tableRows || others.length === 0) return undefined;
  const nodes: Node[] = [];
  let ids: VId;
  if (isContiguous(rows.ids.view)) {
    ids = addVal(prog, "int32", [n], {
      kind: "view",
      root: rows.ids.root,
      view: identityView([n], rows.ids.view.offset),
    });
  } else {
    const order = addVal(prog, "int32", rows.ids.view.shape, { kind: "view", ...rows.ids });
    const copied = addVal(prog, "int32", rows.ids.view.shape, { kind: "root" });
    nodes.push({ kind: "ew", op: "copy", ins: [order], outs: [copied] });
    ids = addVal(prog, "int32", [n], { kind: "view", root: copied, view: identityView([n]) });
  }
  const projected = addVal(prog, "float32", [tableRows, out.shape[1]!], { kind: "root" });
  nodes.push({ kind: "matmul", ins: [table, b], outs: [projected] });
  nodes.push({ kind: "index", op: "take", axis: 0, ins: [projected, ids], outs: p.outs });
  return nodes;
};

/**
 * Rewrites, in `block` and the blocks of its scans, every float32 product of rows gathered from a
 * table (see the file comment) into the table's product, gathered. Returns whether it rewrote any.
 * @example tableProducts(prog, block) // true for the char-rnn step: its lifted input projection
 */
export const tableProducts = (prog: Program, block: Block): boolean => {
  let changed = false;
  for (const n of block.nodes) if (n.kind === "scan") changed = tableProducts(prog, n.body) || changed;
  const producer = new Map<VId, Node>();
  for (const n of block.nodes) for (const o of n.outs) producer.set(o, n);
  const readers = readersOf(prog, block);
  for (let i = 0; i < block.nodes.length; i++) {
    const n = block.nodes[i]!;
    if (n.kind !== "matmul") continue;
    const nodes = asTableProduct(prog, n, producer, readers);
    if (nodes === undefined) continue;
    // The product reads the gathered rows no more: a second product of them must not count it.
    for (const set of readers.values()) set.delete(n);
    block.nodes.splice(i, 1, ...nodes);
    i += nodes.length - 1;
    changed = true;
  }
  return changed;
};
