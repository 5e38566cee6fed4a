/**
 * @file Hostile checkpoint files against `restoreCheckpoint` and `loadCheckpoint` (@rewind/optim):
 * every truncation and every single-bit flip of a real checkpoint is refused (the checksum covers
 * the whole file, so there is no byte whose change goes unnoticed), random bursts of up to 32 bits
 * are refused, other random damage is refused or provably harmless (the very same state), and
 * well-sealed files with hostile contents — duplicate keys, `__proto__` keys, 100k-deep nesting,
 * non-canonical numbers, bad steps — reach the checks behind the checksum and are refused there.
 *
 * Around every call (guard.ts): no exception, bounded time and allocation, the bytes and the
 * template untouched, the prototypes untouched; a `Left` is a clear DecodeError.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  adam,
  encodeCheckpoint,
  restoreCheckpoint,
  skipNonFinite,
  type Checkpoint,
  type JsonConfig,
} from "@rewind/optim";
import { loadCheckpoint } from "@rewind/optim/node";
import { arbMutation, CRC_CHECK, expectClearError, HostileLedger, mutate, parts } from "./files.js";
import { assertPrototypesPristine, guarded } from "./guard.js";
import { larger, metaOf, reseal, sealV1, small, withMeta, withNumberCounts } from "./checkpointFiles.js";
import { arbHostileEdit, hostileContents } from "./checkpointCases.js";

const ledger = new HostileLedger("checkpoint");
const dir = mkdtempSync(join(tmpdir(), "rewind-hostile-"));
afterAll(() => {
  assertPrototypesPristine("after the checkpoint cases", true);
  rmSync(dir, { recursive: true, force: true });
  const counts = ledger.write();
  console.log(
    `hostile checkpoints: ${counts.files} files, ${counts.mutations} mutations, ${counts.targeted} hand-made cases`,
  );
});

const base = small();
const big = larger();
ledger.file("small");
ledger.file("larger");

/** Every bit of a pytree: structure, static values and tensor bytes. */
const fingerprint = (tree: unknown): string => {
  const [leaves, def] = A.treeFlatten(tree);
  const bits = leaves.map((l) =>
    T.isTensor(l)
      ? `${l.dtype}[${l.shape.join(",")}]:${Buffer.from(l.data.buffer, l.data.byteOffset, l.data.byteLength).toString("hex")}`
      : String(l),
  );
  return `${A.treeDefKey(def)}|${bits.join("|")}`;
};
const stateFingerprint = (c: Checkpoint): string =>
  `${fingerprint(c.params)}#${fingerprint(c.optState)}#${c.step}#${JSON.stringify(c.key)}#${JSON.stringify(c.config)}`;
const original = restoreCheckpoint(base.bytes, base.template);
if (E.isLeft(original)) throw new Error(`the base checkpoint does not restore: ${T.formatTensorError(original.left)}`);
const originalPrint = stateFingerprint(original.right);
const templatePrint = fingerprint(base.template);

/** Restores with and without the template under the guard; returns both outcomes. */
type Restored = E.Either<T.TensorError, Checkpoint>;
const restoreChecked = (where: string, bytes: Uint8Array): readonly [Restored, Restored] => {
  const outcomes: [Restored, Restored] = [
    guarded(`${where} (no template)`, bytes, () => restoreCheckpoint(bytes)),
    guarded(`${where} (template)`, bytes, () => restoreCheckpoint(bytes, base.template)),
  ];
  for (const r of outcomes) if (E.isLeft(r)) expectClearError(r.left, "restoreCheckpoint");
  if (fingerprint(base.template) !== templatePrint) throw new Error(`${where}: the template was modified`);
  return outcomes;
};
const refusedMessage = (where: string, bytes: Uint8Array): string => {
  const [plain, fitted] = restoreChecked(where, bytes);
  if (E.isRight(plain) || E.isRight(fitted)) throw new Error(`${where}: restored`);
  return T.formatTensorError(plain.left);
};

describe("the base files", () => {
  it("restore exactly, and our sealing agrees with the library's", () => {
    expect(CRC_CHECK).toBe(true);
    const [plain] = restoreChecked("intact", base.bytes);
    expect(E.isRight(plain) && stateFingerprint(plain.right)).toBe(stateFingerprint(base.state));
    expect(reseal(base.bytes, (h) => h)).toEqual(base.bytes);
    expect(E.isRight(restoreCheckpoint(big))).toBe(true);
  });
});

describe("damage is always detected", () => {
  it(`every strict prefix of a ${base.bytes.length}-byte checkpoint is refused`, () => {
    for (let len = 0; len < base.bytes.length; len++) refusedMessage(`prefix ${len}`, base.bytes.slice(0, len));
    ledger.mutation(base.bytes.length);
  });

  it("every single-bit flip, anywhere in the file, is refused", () => {
    const seen = new Set<string>();
    for (let bit = 0; bit < 8 * base.bytes.length; bit++) {
      const flipped = base.bytes.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const r = guarded(`bit ${bit}`, flipped, () => restoreCheckpoint(flipped));
      if (E.isRight(r)) expect.fail(`flipping bit ${bit} (byte ${bit >> 3}) went unnoticed`);
      seen.add(
        expectClearError(r.left, "restoreCheckpoint")
          .replace(/[0-9a-f]{8}|\d+/g, "#")
          .slice(0, 90),
      );
    }
    ledger.mutation(8 * base.bytes.length);
    // Flips are caught by the safetensors decoder, by the metadata checks, and by the checksum.
    expect([...seen].some((m) => m.includes("not a valid safetensors file"))).toBe(true);
    expect([...seen].some((m) => m.includes("the file is damaged: its checksum"))).toBe(true);
  });

  it("regressions: a dtype byte F→I and a shape digit of an empty tensor (outside version 1's checksum)", () => {
    const text = parts(base.bytes).header;
    const at = (s: string): number => 8 + Buffer.byteLength(text.slice(0, text.indexOf(s)));
    const dtype = base.bytes.slice();
    dtype[at('"params.w":{"dtype":"F32"') + '"params.w":{"dtype":"'.length] = "I".charCodeAt(0);
    const shape = base.bytes.slice();
    shape[at('"params.z":{"dtype":"F32","shape":[0,5]') + '"params.z":{"dtype":"F32","shape":[0,'.length]! ^= 1; // 5 → 4
    for (const bytes of [dtype, shape])
      expect(refusedMessage("regression", bytes)).toMatch(
        /the file is damaged: its checksum is "crc32:[0-9a-f]{8}" but its contents give "crc32:[0-9a-f]{8}"/,
      );
    ledger.case(2);
  });

  it("random bursts of up to 32 bits are refused (fast-check)", () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 0xffffffff }), (at, burst) => {
        const damaged = base.bytes.slice();
        const start = at % (damaged.length - 3);
        for (let k = 0; k < 4; k++) damaged[start + k]! ^= (burst >>> (8 * k)) & 0xff;
        const r = guarded("burst", damaged, () => restoreCheckpoint(damaged));
        if (E.isRight(r)) throw new Error(`a burst ${burst.toString(16)} at byte ${start} went unnoticed`);
        expectClearError(r.left, "restoreCheckpoint");
        ledger.mutation();
      }),
      { numRuns: 1000 },
    );
  });

  it("other random damage: refused, or the very same state (fast-check)", () => {
    let harmless = 0;
    fc.assert(
      fc.property(fc.constantFrom(base.bytes, big), arbMutation, (bytes, m) => {
        const damaged = mutate(bytes, m);
        const [plain] = restoreChecked(m.kind, damaged);
        if (E.isRight(plain)) {
          const intact = restoreCheckpoint(bytes);
          expect(
            E.isRight(intact) && stateFingerprint(plain.right) === stateFingerprint(intact.right),
            `${m.kind} changed the restored state`,
          ).toBe(true);
          harmless++;
        }
        ledger.mutation();
      }),
      { numRuns: 500 },
    );
    // Only a mutation that changes nothing (an empty splice, an overwrite with the same bytes) restores.
    expect(harmless).toBeLessThan(50);
  });
});

describe("well-sealed files with hostile contents", () => {
  it.each(hostileContents(base.bytes).map((c) => [c.label, c] as const))("%s", (label, c) => {
    const bytes = reseal(base.bytes, c.edit);
    expect(refusedMessage(label, bytes)).toMatch(c.message);
    ledger.case();
  });

  it("random hostile edits of the tree, config, step and format are refused behind a valid checksum (fast-check)", () => {
    fc.assert(
      fc.property(arbHostileEdit(metaOf(base.bytes, "tree"), metaOf(base.bytes, "config")), (e) => {
        const message = refusedMessage(e.label, reseal(base.bytes, withMeta(e.changes)));
        expect(message, e.label).not.toMatch(/damaged/);
        ledger.mutation();
      }),
      { numRuns: 400 },
    );
  });

  it("a hostile author's dtype change restores as the bytes say without a template, and is refused with one", () => {
    const bytes = reseal(base.bytes, (h) => ({
      ...h,
      tensors: h.tensors.map(([k, v]) => [k, k === "params.w" ? { ...v, dtype: "I32" } : v]),
    }));
    const [plain, fitted] = restoreChecked("I32 params.w", bytes);
    expect(E.isRight(plain) && (plain.right.params as { w: T.Tensor }).w.dtype).toBe("int32");
    expect(E.isLeft(fitted) && T.formatTensorError(fitted.left)).toMatch(
      /params\.w: the checkpoint has int32\[2, 2\], the template float32\[2, 2\]/,
    );
    ledger.case();
  });

  it("metadata, tree keys and Map keys named like Object.prototype members restore without touching the prototypes", () => {
    const tree = JSON.parse(metaOf(base.bytes, "tree")) as { children: [{ children: unknown[] }, { keys: string[] }] };
    const statics = (...values: string[]) =>
      values.map((value) => ({ kind: "static", value: { type: "string", value } }));
    tree.children[0].children.push({
      kind: "map",
      keys: [
        { type: "string", value: "__proto__" },
        { type: "string", value: "polluted" },
      ],
      children: statics("p", "q"),
    });
    tree.children[1].keys = tree.children[1].keys.map((k) => (k === "b" ? "toString" : k));
    const bytes = reseal(
      base.bytes,
      withMeta({ tree: JSON.stringify(tree), polluted: "yes", toString: "x", __lookupGetter__: "y" }),
    );
    const [plain, fitted] = restoreChecked("odd keys", bytes);
    if (E.isLeft(plain)) return expect.fail(T.formatTensorError(plain.left));
    const map = (plain.right.optState as unknown[])[2] as { get(k: string): unknown };
    expect([map.get("__proto__"), map.get("polluted")]).toEqual(["p", "q"]);
    expect(Object.hasOwn(plain.right.params as object, "toString")).toBe(true);
    expect(E.isLeft(fitted) && T.formatTensorError(fitted.left)).toMatch(
      /params\.toString: in the checkpoint but not in the template/,
    );
    ledger.case();
  });
});

describe("the nesting limit is the one the messages state, for writing and reading alike", () => {
  const opt = { params: {}, optState: {}, step: 0 };
  const nested = (levels: number, leaf: unknown): unknown => (levels <= 1 ? leaf : [nested(levels - 1, leaf)]);

  it("a config 256 levels deep round-trips; 257 levels are refused when writing and when reading", () => {
    const ok = encodeCheckpoint({ ...opt, config: nested(256, 1) as JsonConfig });
    const back = restoreCheckpoint(ok);
    expect(E.isRight(back) && JSON.stringify(back.right.config)).toBe(JSON.stringify(nested(256, 1)));
    expect(() => encodeCheckpoint({ ...opt, config: nested(257, 1) as JsonConfig })).toThrow(
      /nested deeper than 256 levels/,
    );
    expect(refusedMessage("257 levels", reseal(ok, withMeta({ config: JSON.stringify(nested(257, 1)) })))).toMatch(
      /nested deeper than 256 levels/,
    );
    ledger.case(2);
  });

  it("a tree 256 levels deep round-trips; 257 levels are refused when writing and when reading", () => {
    // The root object is level 1 and params level 2, so 254 arrays put the tensor at level 256.
    const ok = encodeCheckpoint({ ...opt, params: nested(255, T.scalar(1)) });
    const restored = guarded("256 levels", ok, () => restoreCheckpoint(ok));
    expect(E.isRight(restored)).toBe(true);
    expect(() => encodeCheckpoint({ ...opt, params: nested(256, T.scalar(1)) })).toThrow(
      /nested deeper than 256 levels/,
    );
    const deeper = metaOf(ok, "tree").replace(
      /\{"kind":"leaf","name":"([^"]*)"\}/,
      '{"kind":"array","children":[{"kind":"leaf","name":"$1"}]}',
    );
    const [plain] = restoreChecked("257 levels", reseal(ok, withMeta({ tree: deeper })));
    expect(E.isLeft(plain) && T.formatTensorError(plain.left)).toMatch(
      /the structure is nested deeper than 256 levels/,
    );
    ledger.case(2);
  });
});

describe("values that are not checkpoint bytes", () => {
  it("are refused with a Left, including objects that pass `instanceof Uint8Array`", () => {
    // Before: a TypeError from the first typed-array getter of the last two.
    const values = [
      null,
      "bytes",
      new Float32Array(4),
      Object.create(Uint8Array.prototype) as unknown,
      Object.setPrototypeOf(new DataView(base.bytes.slice().buffer), Uint8Array.prototype) as unknown,
    ];
    for (const [i, v] of values.entries()) {
      const r = guarded(`value ${i}`, new Uint8Array(0), () => restoreCheckpoint(v as Uint8Array));
      expect(E.isLeft(r) && expectClearError(r.left, "restoreCheckpoint")).toMatch(
        /^restoreCheckpoint: expected a Uint8Array of checkpoint bytes, got (null|string|an object that is not a Uint8Array)$/,
      );
      ledger.case();
    }
  });

  it("a byte array's own properties cannot change what is checksummed", () => {
    const lying = base.bytes.slice();
    Object.defineProperty(lying, "subarray", { value: () => new Uint8Array(0) });
    Object.defineProperty(lying, "length", { value: 3 });
    const r = restoreCheckpoint(lying, base.template);
    expect(E.isRight(r) && stateFingerprint(r.right)).toBe(originalPrint);
    ledger.case();
  });
});

describe("update counts and flags behind a valid checksum (files of the layout with static counts)", () => {
  // Before: restored, and the count failed only at the next update (NaN, −1, 1.5) or was used as is.
  // Counts are int32 scalar tensors now; files written before are still read, so their static
  // counts are still checked (the tensor counts are checked in packages/optim/test).
  const tree = metaOf(base.legacyBytes, "tree");
  const count = (value: string): string =>
    `{"kind":"static","value":{"type":"number","value":${JSON.stringify(value)}}}`;
  /** The tree with the `nth` static count of 2 (0: Adam's, 1: the learning-rate schedule's) set to `value`. */
  const withCount = (value: string, nth: number): Uint8Array => {
    const parts = tree.split(count("2"));
    expect(parts).toHaveLength(3);
    return reseal(
      base.legacyBytes,
      withMeta({
        tree: parts.map((p, i) => (i === 0 ? p : `${i - 1 === nth ? count(value) : count("2")}${p}`)).join(""),
      }),
    );
  };

  it.each(["NaN", "-1", "1.5", "Infinity", "-Infinity", "9007199254740992", "1e+21"])(
    "an Adam count of %s is refused, naming the field and the value",
    (value) => {
      expect(refusedMessage(`count ${value}`, withCount(value, 0))).toBe(
        `restoreCheckpoint: bad optimizer state in the checkpoint: optState[1][0].count: an update count must be a non-negative integer, got ${value}`,
      );
      ledger.case();
    },
  );

  it("the learning-rate schedule's count is checked too; valid counts restore", () => {
    expect(refusedMessage("schedule count", withCount("-3", 1))).toMatch(
      /optState\[1\]\[1\]\.count: an update count must be a non-negative integer, got -3$/,
    );
    for (const value of ["0", "41", "2147483647"]) {
      const [plain, fitted] = restoreChecked(`count ${value}`, withCount(value, 0));
      expect(
        E.isRight(plain) && E.isRight(fitted) && (plain.right.optState as [unknown, [{ count: number }]])[1][0].count,
      ).toBe(Number(value));
      // With the template, the count arrives as the int32 scalar tensor that counts are now.
      expect(E.isRight(fitted) && (fitted.right.optState as [unknown, [{ count: unknown }]])[1][0].count).toEqual(
        T.scalar(Number(value), "int32"),
      );
    }
    // A count past int32 restores as it was saved without a template, and is refused with one.
    const [plain, fitted] = restoreChecked("count 2^53 - 1", withCount("9007199254740991", 0));
    expect(E.isRight(plain) && (plain.right.optState as [unknown, [{ count: number }]])[1][0].count).toBe(2 ** 53 - 1);
    expect(E.isLeft(fitted) && T.formatTensorError(fitted.left)).toMatch(
      /optState\[1\]\[0\]\.count: the checkpoint has the number 9007199254740991, the template an int32 scalar \(an update count\), and only an integer in int32 range converts to one/,
    );
    ledger.case(5);
  });

  it("skipNonFinite's counts and flag are checked against each other", () => {
    const params = { w: T.ones([2]) };
    const skipping = skipNonFinite(adam({ learningRate: 0.1 }));
    let state = skipping.init(params);
    for (const g of [NaN, 1, NaN]) state = skipping.update({ w: T.full([2], g) }, state, params)[1];
    const bytes = encodeCheckpoint({ params, optState: withNumberCounts(state), step: 3 });
    const template = { params, optState: skipping.init(params) };
    const skipTree = metaOf(bytes, "tree");
    const edit = (from: string, to: string): string => {
      const [plain, fitted] = [
        restoreCheckpoint(reseal(bytes, withMeta({ tree: skipTree.replace(from, to) }))),
        restoreCheckpoint(reseal(bytes, withMeta({ tree: skipTree.replace(from, to) })), template),
      ];
      expect(E.isLeft(fitted), `${to} with the template`).toBe(true);
      return E.isLeft(plain) ? expectClearError(plain.left, "restoreCheckpoint") : expect.fail(`${to}: restored`);
    };
    expect(E.isRight(restoreCheckpoint(bytes, template))).toBe(true);
    // The state holds lastFinite false, notFiniteCount 1, totalNotFinite 2 (in key order).
    const flag = '{"kind":"static","value":{"type":"boolean","value":false}}';
    const [run, total] = [count("1"), count("2")];
    expect(skipTree).toContain(`${flag},${run},${total}`);
    expect(edit(`${flag},${run}`, `${flag},${count("-1")}`)).toMatch(
      /optState\.notFiniteCount: an update count must be a non-negative integer, got -1/,
    );
    expect(edit(`${run},${total}`, `${run},${count("0.5")}`)).toMatch(
      /optState\.totalNotFinite: an update count must be a non-negative integer, got 0\.5/,
    );
    expect(edit(`${flag},${run},${total}`, `${flag},${count("3")},${total}`)).toMatch(
      /optState\.notFiniteCount: 3 non-finite steps in a row, but only 2 in all/,
    );
    expect(edit(`${flag},${run}`, `${flag.replace("false", "true")},${run}`)).toMatch(
      /optState\.lastFinite: true, but notFiniteCount is 1/,
    );
    expect(edit(`${flag},${run}`, `${count("1")},${run}`)).toMatch(
      /optState\.lastFinite: must be true or false, got 1/,
    );
    expect(edit(`${flag},${run}`, `${flag},${count("NaN")}`)).toMatch(
      /optState\.notFiniteCount: an update count must be a non-negative integer, got NaN/,
    );
    ledger.case(6);
  });

  it("a transformation's own state with a `count` among other fields is not mistaken for an update count", () => {
    const params = { w: T.ones([2]) };
    const bytes = encodeCheckpoint({ params, optState: { count: 0.5, ema: T.zeros([2]) }, step: 0 });
    const [plain] = restoreChecked("own count", bytes);
    expect(E.isRight(plain) && (plain.right.optState as { count: number }).count).toBe(0.5);
    ledger.case();
  });
});

describe("version 1 files", () => {
  const v1 = sealV1(base.bytes);

  it("are still read, and their checksum (tensor bytes and metadata) catches damage there", () => {
    const [plain, fitted] = restoreChecked("v1", v1);
    expect(E.isRight(plain) && stateFingerprint(plain.right)).toBe(stateFingerprint(base.state));
    expect(E.isRight(fitted)).toBe(true);
    const flipped = v1.slice();
    flipped[flipped.length - 3]! ^= 0x40;
    expect(refusedMessage("v1 data flip", flipped)).toMatch(/the file is damaged: its checksum is/);
    const restepped = v1.slice();
    const text = parts(v1).header;
    restepped[8 + Buffer.byteLength(text.slice(0, text.indexOf('"step":"2"'))) + '"step":"'.length] = "3".charCodeAt(0);
    expect(refusedMessage("v1 metadata edit", restepped)).toMatch(/the file is damaged: its checksum is/);
    ledger.case(3);
  });

  it("but not their tensor table, which is why version 2 checksums the whole file", () => {
    const retyped = sealV1(base.bytes, (h) => ({
      ...h,
      tensors: h.tensors.map(([k, v]) => [k, k === "params.w" ? { ...v, dtype: "I32" } : v]),
    }));
    const [plain, fitted] = restoreChecked("v1 retyped", retyped);
    expect(E.isRight(plain) && (plain.right.params as { w: T.Tensor }).w.dtype).toBe("int32");
    expect(E.isLeft(fitted)).toBe(true);
    expect(refusedMessage("v2 file relabelled as v1", reseal(base.bytes, withMeta({ format_version: "1" })))).toMatch(
      /the file is damaged/,
    );
    ledger.case(2);
  });
});

describe("loadCheckpoint on files", () => {
  it("missing, empty, directory and damaged files give a Left naming the path", () => {
    const write = (name: string, bytes: Uint8Array): string => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    };
    mkdirSync(join(dir, "a-directory"));
    const cases: [string, RegExp][] = [
      [join(dir, "missing.safetensors"), /^loadCheckpoint: cannot read ".*missing\.safetensors": ENOENT/],
      [
        join(dir, "a-directory"),
        /^loadCheckpoint: cannot read ".*a-directory": it is a directory, not a regular file; pass the path of a file$/,
      ],
      [
        write("empty.safetensors", new Uint8Array(0)),
        /^restoreCheckpoint: ".*empty\.safetensors": the bytes are not a valid safetensors file/,
      ],
    ];
    fc.sample(arbMutation, { numRuns: 40 }).forEach((m, i) =>
      cases.push([
        write(`m${i}.safetensors`, mutate(base.bytes, m)),
        /^(restoreCheckpoint|loadCheckpoint): ".*m\d+\.safetensors": /,
      ]),
    );
    for (const [path, message] of cases) {
      const r = guarded(path, new Uint8Array(0), () => loadCheckpoint(path, base.template), 0);
      if (E.isRight(r)) {
        expect(stateFingerprint(r.right)).toBe(originalPrint);
        continue;
      }
      expect(expectClearError(r.left, r.left.op === "loadCheckpoint" ? "loadCheckpoint" : "restoreCheckpoint")).toMatch(
        message,
      );
    }
    ledger.mutation(40);
    ledger.case(3);
  });
});
