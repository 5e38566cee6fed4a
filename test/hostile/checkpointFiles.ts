/**
 * @file Real checkpoints to damage, and well-sealed hostile ones: a checkpoint's header rewritten
 * (metadata edited as values or as raw JSON text, tensor entries edited) and sealed again with a
 * valid checksum (files.ts's own CRC), so the reader's checks behind the checksum are reached.
 */
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { adam, applyUpdates, chain, clipByGlobalNorm, encodeCheckpoint, sgd, type Checkpoint } from "@rewind/optim";
import { crcBits, file, parts, sealV2 } from "./files.js";

/**
 * The tree with every int32 and bool scalar tensor (an optimizer's update counts and flags)
 * replaced by its number or boolean: a state in the layout of the versions before counts were
 * tensors, which `encodeCheckpoint` writes as those versions wrote it (static values in the tree).
 */
export const withNumberCounts = (tree: unknown): unknown => {
  if (T.isTensor(tree))
    return tree.shape.length !== 0
      ? tree
      : tree.dtype === "int32"
        ? tree.data[0]!
        : tree.dtype === "bool"
          ? tree.data[0] !== 0
          : tree;
  if (Array.isArray(tree)) return tree.map(withNumberCounts);
  if (typeof tree === "object" && tree !== null)
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, withNumberCounts(v)]));
  return tree;
};

/**
 * A small model two Adam steps in, with a key and a config: the file every flip is tried on;
 * `legacyBytes` is the same state in the layout of earlier versions (update counts as static
 * numbers in the tree).
 */
export const small = (): {
  readonly state: Checkpoint;
  readonly template: { params: unknown; optState: unknown };
  readonly bytes: Uint8Array;
  readonly legacyBytes: Uint8Array;
} => {
  const params = {
    b: T.tensor([0.5, -0.25], "float64"),
    w: T.tensor(
      [
        [1, -2],
        [3, 0.5],
      ],
      "float32",
    ),
    z: T.zeros([0, 5], "float32"),
  };
  const opt = chain(clipByGlobalNorm(1), adam({ learningRate: 0.1 }));
  let [p, s] = [params as unknown, opt.init(params)];
  for (const g of [1, -3]) {
    const [u, next] = opt.update(
      A.treeMap((x: A.Value) => A.mul(A.onesLike(x), g), p),
      s,
      p,
    );
    [p, s] = [applyUpdates(p, u), next];
  }
  const state: Checkpoint = {
    params: p,
    optState: s,
    step: 2,
    key: T.random.key(7),
    config: { lr: 0.1, cell: "lstm", sizes: [2, 2], note: "é\u2028" },
  };
  return {
    state,
    template: { params, optState: opt.init(params) },
    bytes: encodeCheckpoint(state),
    legacyBytes: encodeCheckpoint({ ...state, optState: withNumberCounts(state.optState) }),
  };
};

/** A larger one (nested params, SGD with momentum, int32 and bool leaves) for random damage. */
export const larger = (): Uint8Array => {
  const params = {
    layers: [{ w: T.ones([4, 3], "float64"), b: T.zeros([3], "float64") }, { w: T.ones([3, 2], "float32") }],
    mask: T.tensor([true, false], "bool"),
    ids: T.tensor([3, -1], "int32"),
  };
  const trainable = { layers: params.layers };
  return encodeCheckpoint({
    params,
    optState: sgd({ learningRate: 0.1, momentum: 0.9 }).init(trainable),
    step: 41,
    key: T.random.key(3),
  });
};

/** The metadata and tensor entries of a checkpoint's header, in file order. */
export interface Header {
  readonly metadata: Array<[string, string]>;
  readonly tensors: Array<[string, { dtype: string; shape: number[]; data_offsets: [number, number] }]>;
}

export const readHeader = (bytes: Uint8Array): Header => {
  const json = JSON.parse(parts(bytes).header) as Record<string, unknown>;
  const { __metadata__: meta, ...tensors } = json;
  return {
    metadata: Object.entries(meta as Record<string, string>),
    tensors: Object.entries(tensors) as Header["tensors"],
  };
};

/** One metadata value of a checkpoint. */
export const metaOf = (bytes: Uint8Array, key: string): string =>
  readHeader(bytes).metadata.find(([k]) => k === key)![1];

/**
 * The checkpoint rebuilt from `header` with its data unchanged, laid out as the library lays it
 * out (metadata sorted by key, header padded with spaces to a multiple of 8) and, if it has a
 * `checksum` entry, sealed by version 2. `rawMetadata` supplies the metadata entries as literal
 * JSON text instead (sealed if it contains the placeholder `"checksum":"crc32:00000000"`).
 */
export const reseal = (
  bytes: Uint8Array,
  edit: (h: Header) => Header | { readonly rawMetadata: string; readonly tensors: Header["tensors"] },
): Uint8Array => {
  const edited = edit(readHeader(bytes));
  const metaText =
    "rawMetadata" in edited
      ? edited.rawMetadata
      : [...edited.metadata]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(k === "checksum" ? "crc32:00000000" : v)}`)
          .join(",");
  const json = `{${[`"__metadata__":{${metaText}}`, ...edited.tensors.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)].join(",")}}`;
  const header = json.padEnd(json.length + ((8 - (Buffer.byteLength(json) % 8)) % 8), " ");
  const data = parts(bytes).data;
  return header.includes('"checksum":"crc32:00000000"') ? sealV2(header, data) : file(header, data);
};

/** Sets (or with `undefined`, removes) metadata entries. */
export const withMeta =
  (changes: Readonly<Record<string, string | undefined>>) =>
  (h: Header): Header => ({
    ...h,
    metadata: [
      ...h.metadata.filter(([k]) => !(k in changes)),
      ...Object.entries(changes).filter((e): e is [string, string] => e[1] !== undefined),
    ],
  });

/** A tree node nested `depth` levels deep in single-child arrays around `inner`. */
export const nestNodes = (depth: number, inner: string): string =>
  `${'{"kind":"array","children":['.repeat(depth)}${inner}${"]}".repeat(depth)}`;

const byKey = ([a]: readonly [string, string], [b]: readonly [string, string]): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The checkpoint relabelled as format version 1 and sealed the way version 1 was: the CRC-32 of
 * the tensor bytes followed by the JSON of the sorted metadata entries (checksum excluded) as
 * UTF-16LE code units.
 */
export const sealV1 = (bytes: Uint8Array, edit: (h: Header) => Header = (h) => h): Uint8Array =>
  reseal(bytes, (original) => {
    const h = edit(original);
    const meta = [
      ...h.metadata.filter(([k]) => k !== "checksum" && k !== "format_version"),
      ["format_version", "1"] as [string, string],
    ].sort(byKey);
    const text = JSON.stringify(meta);
    const data = parts(bytes).data;
    const message = new Uint8Array(data.length + 2 * text.length);
    message.set(data);
    for (let i = 0; i < text.length; i++) {
      message[data.length + 2 * i] = text.charCodeAt(i) & 0xff;
      message[data.length + 2 * i + 1] = text.charCodeAt(i) >>> 8;
    }
    const checksum = `crc32:${crcBits(message).toString(16).padStart(8, "0")}`;
    const all = [...meta, ["checksum", checksum] as [string, string]].sort(byKey);
    return {
      rawMetadata: all.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(","),
      tensors: h.tensors,
    };
  });
