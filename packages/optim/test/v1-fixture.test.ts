/**
 * @file Checkpoints of the first optimizer-state layout still restore. The files in fixtures/
 * were written at commit 68b6166 (make-v1-fixture.ts), when update counts and `skipNonFinite`'s
 * flag were plain numbers and booleans stored as static values of the tree; today's `init` makes
 * int32 and bool scalar tensors. Restored with today's template, the file's counts arrive as those
 * tensors, and the run continues exactly as today's code runs from scratch: the numerics did not
 * change, so the moments saved then are today's bits too. Tampered files of either layout are
 * refused, the old layout with the messages it always had.
 */
/// <reference types="node" />
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { formatTensorError, safetensors } from "@rewind/tensor";
import { encodeCheckpoint, restoreCheckpoint, type Checkpoint } from "../src/index.js";
import { expectSameTreeBits } from "./helpers.js";
import { sealCheckpoint } from "../src/checkpoint.js";
import { initParams, SETUPS, train, type Setup } from "./fixtures/v1Setup.js";

const fixture = (setup: Setup): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${setup.file}`, import.meta.url)));

const templateOf = (setup: Setup) => ({ params: initParams(), optState: setup.opt().init(initParams()) });

const restored = (bytes: Uint8Array, template?: ReturnType<typeof templateOf>): Checkpoint => {
  const r = template === undefined ? restoreCheckpoint(bytes) : restoreCheckpoint(bytes, template);
  return E.isLeft(r) ? expect.fail(formatTensorError(r.left)) : r.right;
};

/** The counts the setup's state holds after `setup.saved` updates, from its list of bad steps. */
const expectedCounts = (setup: Setup) => {
  const bad = (step: number) => setup.poison[step] !== undefined;
  const steps = Array.from({ length: setup.saved }, (_, i) => i);
  let run = 0;
  while (run < setup.saved && bad(setup.saved - 1 - run)) run++;
  return { finite: steps.filter((s) => !bad(s)).length, run, total: steps.filter(bad).length };
};

type SkipState = {
  notFiniteCount: unknown;
  totalNotFinite: unknown;
  lastFinite: unknown;
  inner: unknown;
};

describe.each(SETUPS)("a checkpoint of the first layout: $name", (setup) => {
  const bytes = fixture(setup);
  const counts = expectedCounts(setup);

  it("restores with today's template: counts as int32 scalars, the flag as a bool scalar, the values saved", () => {
    const state = restored(bytes, templateOf(setup)).optState as SkipState;
    expect(state.notFiniteCount).toEqual(T.scalar(counts.run, "int32"));
    expect(state.totalNotFinite).toEqual(T.scalar(counts.total, "int32"));
    expect(state.lastFinite).toEqual(T.scalar(counts.run === 0 ? 1 : 0, "bool"));
    // Every update count inside (Adam's and the learning rate's): the finite updates made.
    const inner = A.treeLeavesWithPaths(state.inner).filter(([path]) => path.endsWith(".count"));
    expect(inner.length).toBeGreaterThan(0);
    for (const [, c] of inner) expect(c).toEqual(T.scalar(counts.finite, "int32"));
  });

  it("holds today's parameters and state after the same updates, bit for bit (the numerics did not change)", () => {
    const r = restored(bytes, templateOf(setup));
    const today = train(setup, initParams(), setup.opt().init(initParams()), 0, setup.saved);
    expectSameTreeBits("params", r.params, today.params);
    expectSameTreeBits("optState", r.optState, today.state);
  });

  it("continues as a run of today's code from scratch, bit for bit", () => {
    const r = restored(bytes, templateOf(setup));
    const total = setup.saved + 6;
    const resumed = train(setup, r.params as ReturnType<typeof initParams>, r.optState, setup.saved, total);
    const straight = train(setup, initParams(), setup.opt().init(initParams()), 0, total);
    expectSameTreeBits("params", resumed.params, straight.params);
    expectSameTreeBits("optState", resumed.state, straight.state);
  });

  it("restores without a template as it was saved (static numbers and booleans)", () => {
    const state = restored(bytes).optState as SkipState;
    expect([state.notFiniteCount, state.totalNotFinite, state.lastFinite]).toEqual([
      counts.run,
      counts.total,
      counts.run === 0,
    ]);
  });
});

/** A checkpoint's tensors and metadata, and a function that seals them again with one change. */
const opened = (bytes: Uint8Array) => {
  const file = safetensors.decode(bytes);
  if (E.isLeft(file)) return expect.fail("not a safetensors file");
  const { tensors, metadata } = file.right;
  return {
    tree: JSON.parse(metadata.get("tree")!) as Node,
    reseal: (tree: Node, swap: Readonly<Record<string, T.Tensor>> = {}): Uint8Array =>
      sealCheckpoint(
        new Map([...tensors].map(([k, t]) => [k, swap[k] ?? t])),
        Object.fromEntries(
          [...metadata].filter(([k]) => k !== "checksum").map(([k, v]) => [k, k === "tree" ? JSON.stringify(tree) : v]),
        ),
      ),
  };
};

type Node = { kind: string; keys?: string[]; children?: Node[]; value?: unknown; name?: string };

/** The node at a path of keys and indices, in a copy of the tree that `set` replaces it in. */
const editAt = (tree: Node, path: ReadonlyArray<string | number>, replacement: Node): Node => {
  const copy = structuredClone(tree);
  let node = copy;
  path.forEach((seg, i) => {
    const j = typeof seg === "number" ? seg : node.keys!.indexOf(seg);
    if (i === path.length - 1) node.children![j] = replacement;
    else node = node.children![j]!;
  });
  return copy;
};
const num = (value: string): Node => ({ kind: "static", value: { type: "number", value } });
const bool = (value: boolean): Node => ({ kind: "static", value: { type: "boolean", value } });

const refusal = (bytes: Uint8Array, template: unknown): string => {
  const r = restoreCheckpoint(bytes, template as { params: unknown; optState: unknown });
  return E.isLeft(r) ? formatTensorError(r.left) : expect.fail("restored");
};
const BAD = "restoreCheckpoint: bad optimizer state in the checkpoint: ";

describe("tampered checkpoints of the first layout are refused with the messages they always had", () => {
  const [adamSetup, sgdSetup] = SETUPS as [Setup, Setup];
  const adamFile = opened(fixture(adamSetup));
  const sgdFile = opened(fixture(sgdSetup));

  it.each(["-1", "1.5", "NaN"])("an Adam count of %s", (value) => {
    const bytes = adamFile.reseal(editAt(adamFile.tree, ["optState", "inner", 1, 0, "count"], num(value)));
    expect(refusal(bytes, templateOf(adamSetup))).toBe(
      `${BAD}optState.inner[1][0].count: an update count must be a non-negative integer, got ${value}`,
    );
  });

  it("a lastFinite that disagrees with notFiniteCount, and more steps in a row than in all", () => {
    const flag = editAt(sgdFile.tree, ["optState", "lastFinite"], bool(true));
    expect(refusal(sgdFile.reseal(flag), templateOf(sgdSetup))).toBe(
      `${BAD}optState.lastFinite: true, but notFiniteCount is 2 (the last step was finite exactly when it is 0)`,
    );
    const run = editAt(sgdFile.tree, ["optState", "notFiniteCount"], num("4"));
    expect(refusal(sgdFile.reseal(run), templateOf(sgdSetup))).toBe(
      `${BAD}optState.notFiniteCount: 4 non-finite steps in a row, but only 3 in all (totalNotFinite)`,
    );
    const notFlag = editAt(sgdFile.tree, ["optState", "lastFinite"], num("0"));
    expect(refusal(sgdFile.reseal(notFlag), templateOf(sgdSetup))).toBe(
      `${BAD}optState.lastFinite: must be true or false, got 0`,
    );
  });
});

describe("checkpoints of today's layout: counts and flags are tensors, checked as the static ones were", () => {
  const setup = SETUPS[1]!;
  const today = train(setup, initParams(), setup.opt().init(initParams()), 0, setup.saved);
  const file = opened(encodeCheckpoint({ params: today.params, optState: today.state, step: setup.saved }));

  it("stores them as int32 and bool scalar tensors, which restore as they were", () => {
    const names = A.treeLeavesWithPaths(today.state).map(([path]) => path);
    expect(names).toEqual(expect.arrayContaining([".inner[1].count", ".lastFinite", ".notFiniteCount"]));
    expectSameTreeBits("restored", restored(file.reseal(file.tree), templateOf(setup)).optState, today.state);
  });

  it.each([
    ["optState.inner[1].count", T.scalar(-1, "int32"), "an update count must be a non-negative integer, got -1"],
    [
      "optState.inner[1].count",
      T.scalar(2, "float32"),
      "an update count must be a non-negative integer, got a float32[] tensor",
    ],
    [
      "optState.totalNotFinite",
      T.zeros([1], "int32"),
      "an update count must be a non-negative integer, got an int32[1] tensor",
    ],
    [
      "optState.notFiniteCount",
      T.scalar(4, "int32"),
      "4 non-finite steps in a row, but only 3 in all (totalNotFinite)",
    ],
    [
      "optState.lastFinite",
      T.scalar(1, "bool"),
      "true, but notFiniteCount is 2 (the last step was finite exactly when it is 0)",
    ],
    ["optState.lastFinite", T.scalar(0, "int32"), "must be true or false, got an int32[] tensor"],
  ])("%s = %s is refused", (name, tensor, message) => {
    const bytes = file.reseal(file.tree, { [name]: tensor });
    expect(refusal(bytes, undefined)).toBe(`${BAD}${name}: ${message}`);
    expect(refusal(bytes, templateOf(setup))).toBe(`${BAD}${name}: ${message}`);
  });
});

describe("only a static integer or boolean against an int32 or bool scalar template converts", () => {
  const w = T.tensor([1, 2], "float32");
  const save = (optState: unknown) => encodeCheckpoint({ params: { w }, optState, step: 0 });
  const fit = (optState: unknown, template: unknown) => refusal(save(optState), { params: { w }, optState: template });

  it("converts 3 to an int32 scalar and true to a bool scalar", () => {
    const r = restoreCheckpoint(save({ n: 3, on: true }), {
      params: { w },
      optState: { n: T.scalar(0, "int32"), on: T.scalar(0, "bool") },
    });
    expect(E.isRight(r) && r.right.optState).toEqual({ n: T.scalar(3, "int32"), on: T.scalar(1, "bool") });
  });

  it.each([
    [
      { lr: 0.5 },
      { lr: T.scalar(0) },
      "optState.lr: the checkpoint has the number 0.5, the template a tensor float32[]",
    ],
    [
      { n: true },
      { n: T.scalar(0, "int32") },
      "optState.n: the checkpoint has the boolean true, the template a tensor int32[]",
    ],
    [{ n: 2 }, { n: T.scalar(0, "bool") }, "optState.n: the checkpoint has the number 2, the template a tensor bool[]"],
    [
      { n: 2 },
      { n: T.zeros([1], "int32") },
      "optState.n: the checkpoint has the number 2, the template a tensor int32[1]",
    ],
    [
      { n: 1.5 },
      { n: T.scalar(0, "int32") },
      "optState.n: the checkpoint has the number 1.5, the template an int32 scalar (an update count), " +
        "and only an integer in int32 range converts to one",
    ],
  ])("%j against %s is refused", (saved, template, message) => {
    expect(fit(saved, template)).toBe(`restoreCheckpoint: the checkpoint does not fit the template: ${message}`);
  });
});
