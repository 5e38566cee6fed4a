/**
 * @file Hostile checkpoint contents behind a valid checksum: a table of hand-made attacks on the
 * metadata (tree, config, step, format, checksum entry) and the tensor table, and a fast-check
 * arbitrary of random hostile edits of the tree and config JSON, each of which is invalid by
 * construction, so the reader must refuse every one.
 */
import fc from "fast-check";
import { metaOf, nestNodes, withMeta, type Header } from "./checkpointFiles.js";

/** A hostile edit of a checkpoint's header, resealed, and the message it must be refused with. */
export interface HostileContent {
  readonly label: string;
  readonly edit: (h: Header) => Header | { readonly rawMetadata: string; readonly tensors: Header["tensors"] };
  readonly message: RegExp;
}

/**
 * An update count's leaf in a checkpoint's tree: where static numbers stood before counts were
 * tensors, so the cases of non-canonical numbers put theirs there.
 */
const COUNT_LEAF = /\{"kind":"leaf","name":"[^"]*\.count"\}/;

/** Metadata entries as raw JSON text, the checksum entry written by `checksum`. */
const rawMeta = (h: Header, checksum: string) => ({
  rawMetadata: [
    ...h.metadata.filter(([k]) => k !== "checksum").map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`),
    checksum,
  ].join(","),
  tensors: h.tensors,
});

export const hostileContents = (bytes: Uint8Array): readonly HostileContent[] => {
  const tree = metaOf(bytes, "tree");
  const config = metaOf(bytes, "config");
  const t = (label: string, changes: Record<string, string | undefined>, message: RegExp): HostileContent => ({
    label,
    edit: withMeta(changes),
    message,
  });
  return [
    // The checksum entry itself.
    t("no checksum", { checksum: undefined }, /the "checksum" metadata is missing/),
    {
      label: "a checksum key written with an escape",
      edit: (h) => rawMeta(h, '"\\u0063hecksum":"crc32:00000000"'),
      message: /the "checksum" entry is not written as this library writes it/,
    },
    {
      label: "a checksum with spaces around the colon",
      edit: (h) => rawMeta(h, '"checksum" : "crc32:00000000"'),
      message: /is not written as this library writes it/,
    },
    {
      label: "upper-case checksum digits",
      edit: (h) => rawMeta(h, '"checksum":"crc32:ABCDEF01"'),
      message: /"crc32:ABCDEF01" is not "crc32:" and eight lowercase hex digits/,
    },
    {
      label: "a checksum of another algorithm",
      edit: (h) => rawMeta(h, '"checksum":"sha1:00"'),
      message: /"sha1:00" is not "crc32:"/,
    },
    // Format and version.
    t("no format", { format: undefined }, /not a Rewind checkpoint: the metadata "format" is missing/),
    t("another format", { format: "pt" }, /the metadata "format" is "pt", expected "rewind.checkpoint"/),
    t(
      "a newer version",
      { format_version: "3" },
      /unsupported checkpoint format_version "3"; this version of @rewind\/optim reads versions 1 and 2/,
    ),
    t("a version with a space", { format_version: "2 " }, /unsupported checkpoint format_version "2 "/),
    // Step.
    ...["-1", "1.5", "01", "1e3", "", " 2", "0x2", "9007199254740993", "Infinity", "２"].map((step) =>
      t(`the step ${JSON.stringify(step)}`, { step }, /the "step" metadata must be a non-negative integer/),
    ),
    t("no step", { step: undefined }, /the "step" metadata must be a non-negative integer, got null/),
    // Tree JSON: syntax, canonical form, pollution keys, depth.
    t("no tree", { tree: undefined }, /the "tree" metadata \(the structure of params and optimizer state\) is missing/),
    t("a tree that is not JSON", { tree: "{kind" }, /the "tree" metadata is not valid JSON/),
    // Read by the schema: an array where a node belongs is refused at its first character.
    t(
      "100k '[' as the tree",
      { tree: "[".repeat(100_000) },
      /bad "tree" metadata: tree: expected a node object, got an array/,
    ),
    t(
      "100k nested empty arrays as the tree",
      { tree: `${"[".repeat(100_000)}${"]".repeat(100_000)}` },
      /bad "tree" metadata: tree: expected a node object, got an array/,
    ),
    t(
      "10k nested tree nodes",
      { tree: nestNodes(10_000, '{"kind":"leaf","name":"params.w"}') },
      /nested deeper than 256 levels/,
    ),
    t(
      "a duplicate key in the tree",
      { tree: tree.replace('{"kind":"object",', '{"kind":"array","kind":"object",') },
      /the "tree" metadata is not written as JSON.stringify writes it \(a duplicate key/,
    ),
    t(
      "a space in the tree",
      { tree: tree.replace('"kind":"object"', '"kind": "object"') },
      /the "tree" metadata is not written as JSON.stringify writes it/,
    ),
    t(
      "an escaped letter in the tree",
      { tree: tree.replace('"kind":"object"', '"kind":"\\u006fbject"') },
      /the "tree" metadata is not written as JSON.stringify writes it/,
    ),
    t(
      "a __proto__ key in the tree",
      { tree: tree.replace('"keys":["b","w","z"]', '"keys":["__proto__","w","z"]') },
      /the key "__proto__" is not allowed/,
    ),
    t(
      "a constructor key in the tree",
      { tree: tree.replace('"keys":["b","w","z"]', '"keys":["constructor","w","z"]') },
      /the key "constructor" is not allowed/,
    ),
    t(
      "a prototype key in the tree",
      { tree: tree.replace('"keys":["b","w","z"]', '"keys":["prototype","w","z"]') },
      /the key "prototype" is not allowed/,
    ),
    t(
      "a __proto__ field on a node",
      { tree: tree.replace('{"kind":"leaf",', '{"__proto__":{"polluted":1},"kind":"leaf",') },
      /unknown field "__proto__"/,
    ),
    t(
      "duplicate object keys in the tree",
      { tree: tree.replace('"keys":["b","w","z"]', '"keys":["w","w","z"]') },
      /duplicate key "w"/,
    ),
    t(
      "a non-canonical static number",
      { tree: tree.replace(COUNT_LEAF, '{"kind":"static","value":{"type":"number","value":"2.0"}}') },
      /bad static value/,
    ),
    t(
      "a hex static number",
      { tree: tree.replace(COUNT_LEAF, '{"kind":"static","value":{"type":"number","value":"0x2"}}') },
      /bad static value/,
    ),
    t(
      "a leaf naming a missing tensor",
      { tree: tree.replace('"name":"params.w"', '"name":"params.nope"') },
      /the tensor "params.nope" is missing from the file; the tensor "params.w" is not part of the structure/,
    ),
    t(
      "a leaf named twice",
      { tree: tree.replace('"name":"params.w"', '"name":"params.b"') },
      /the structure names the tensor "params.b" twice/,
    ),
    // Limits, applied while the tree is read (a JSON.parse first built 300k-deep trees whole).
    t(
      "300k nested tree nodes",
      { tree: nestNodes(300_000, '{"kind":"leaf","name":"params.w"}') },
      /bad "tree" metadata: tree(\/0){18}…(\/0){18}: the structure is nested deeper than 256 levels$/,
    ),
    t(
      "a tree of 500,001 keys",
      { tree: `{"kind":"object","keys":[${'"a",'.repeat(500_000)}"a"],"children":[]}` },
      /bad "tree" metadata: the structure has more than 500000 nodes and keys \(the limit\)/,
    ),
    t(
      "100k unknown fields on a node",
      { tree: `{"kind":"leaf",${Array.from({ length: 100_000 }, (_, i) => `"f${i}":{}`).join(",")}}` },
      /bad "tree" metadata: tree: unknown field "f0"/,
    ),
    t(
      "a tree of 100k arrays of empty objects",
      { tree: `{"kind":"array","children":[${"{},".repeat(100_000)}{}]}` },
      /bad "tree" metadata: tree\/0: a node without a "kind"/,
    ),
    // Config JSON.
    t("a config that is not JSON", { config: "{lr:1}" }, /the "config" metadata is not valid JSON/),
    t("a NaN config", { config: "NaN" }, /the "config" metadata is not valid JSON/),
    t(
      "a duplicate config key",
      { config: config.replace("{", '{"lr":1,') },
      /the "config" metadata is not written as JSON.stringify writes it \(a duplicate key/,
    ),
    t(
      "a __proto__ config key",
      { config: config.replace("{", '{"__proto__":{"polluted":1},') },
      /bad "config" metadata: config: the key "__proto__" is not allowed/,
    ),
    t(
      "a nested constructor.prototype config",
      { config: config.replace("{", '{"x":{"constructor":{"prototype":{"polluted":1}}},') },
      /config\.x: the key "constructor" is not allowed/,
    ),
    t(
      "a 100k-deep config",
      { config: `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}` },
      /bad "config" metadata: nesting deeper than 256 levels at character 1280/,
    ),
    t(
      "a config of 100,001 values",
      { config: `[${"0,".repeat(100_000)}0]` },
      /bad "config" metadata: more than 100000 values at character 199999/,
    ),
    t(
      "a config of 100k empty objects",
      { config: `[${"{},".repeat(100_000)}{}]` },
      /bad "config" metadata: more than 100000 values at character/,
    ),
    t(
      "a 100k-deep config array",
      { config: `${"[".repeat(100_000)}${"]".repeat(100_000)}` },
      /bad "config" metadata: nesting deeper than 256 levels/,
    ),
    // The tensor table.
    {
      label: "a key tensor of float32",
      edit: (h) => ({ ...h, tensors: h.tensors.map(([k, v]) => [k, k === "key" ? { ...v, dtype: "F32" } : v]) }),
      message: /the tensor "key" must be int32\[2\].*got float32\[2\]/,
    },
    {
      label: "a stray tensor",
      edit: (h) => ({ ...h, tensors: [...h.tensors, ["stray", { dtype: "F32", shape: [0], data_offsets: [0, 0] }]] }),
      message: /the tensor "stray" is not part of the structure/,
    },
  ];
};

/** Pollution and structure keys for hostile tree edits. */
const BAD_KEYS = ["__proto__", "constructor", "prototype"];
const NON_CANONICAL = ["1e3", "0x10", " 1", "01", "+1", "1.0", "-00", ""];

type Node = Record<string, unknown>;
/** Every node of a parsed tree spec, depth first. */
const nodes = (n: Node): Node[] => [n, ...((n["children"] as Node[] | undefined) ?? []).flatMap(nodes)];

/** One hostile edit of the tree node `n` (in place); `which` picks the kind of damage. */
const damage = (n: Node, which: number, pick: number): void => {
  const kind = n["kind"];
  const children = n["children"] as Node[] | undefined;
  switch (which) {
    case 0:
      n["kind"] = ["tuple", "", "__proto__", 1, null][pick % 5];
      return;
    case 1:
      Object.defineProperty(n, ["__proto__", "extra", "constructor"][pick % 3]!, {
        value: { polluted: 1 },
        enumerable: true,
      });
      return;
    case 2:
      delete n["kind"];
      return;
    case 3:
      if (kind === "object" || kind === "record") {
        const keys = n["keys"] as string[];
        if (keys.length === 0) keys.push(BAD_KEYS[pick % 3]!);
        else keys[pick % keys.length] = BAD_KEYS[pick % 3]!;
      } else if (kind === "static") n["value"] = { type: "number", value: NON_CANONICAL[pick % NON_CANONICAL.length] };
      else if (kind === "leaf") n["name"] = pick % 2 === 0 ? "nope" : 7;
      else children!.push({ kind: "leaf", name: "nope" }); // an array: a leaf naming no tensor
      return;
    case 4:
      // A keyed node gets a child without a key; any other node gets children that are not a list.
      if (kind === "object" || kind === "record" || kind === "map")
        children!.push({ kind: "static", value: { type: "null" } });
      else n["children"] = "x";
      return;
    default: {
      // Wrap the node 300 levels deep, past the reader's limit of 256.
      const inner = { ...n };
      for (const k of Object.keys(n)) delete n[k];
      Object.assign(n, JSON.parse(nestNodes(299, JSON.stringify(inner))) as Node);
    }
  }
};

/** A hostile metadata edit, for fast-check: a label and the metadata to set. */
export interface HostileEdit {
  readonly label: string;
  readonly changes: Readonly<Record<string, string>>;
}

/**
 * Random invalid edits: a damaged node of the tree, a hostile key or depth in the config, a bad
 * step or format version. Every edit is invalid, so every one must be refused.
 */
export const arbHostileEdit = (treeText: string, configText: string): fc.Arbitrary<HostileEdit> =>
  fc.oneof(
    fc.tuple(fc.nat(), fc.nat({ max: 5 }), fc.nat()).map(([at, which, pick]) => {
      const tree = JSON.parse(treeText) as Node;
      const all = nodes(tree);
      damage(all[at % all.length]!, which, pick);
      return {
        label: `tree node ${at % all.length}, damage ${which}/${pick}`,
        changes: { tree: JSON.stringify(tree) },
      };
    }),
    fc.tuple(fc.constantFrom(...BAD_KEYS), fc.nat({ max: 3 })).map(([key, depth]) => {
      const config = JSON.parse(configText) as Node;
      let target = config;
      for (let i = 0; i < depth; i++) target = target[`k${i}`] = {};
      Object.defineProperty(target, key, { value: { polluted: 1 }, enumerable: true });
      return { label: `config key ${key} at depth ${depth}`, changes: { config: JSON.stringify(config) } };
    }),
    fc.integer({ min: 257, max: 2000 }).map((depth) => ({
      label: `config ${depth} deep`,
      changes: { config: `${"[".repeat(depth)}${"]".repeat(depth)}` },
    })),
    fc
      .constantFrom("-1", "1.5", "01", "1e3", "", " 2", "2 ", "0x2", "9007199254740993", "NaN")
      .map((step) => ({ label: `step ${JSON.stringify(step)}`, changes: { step } })),
    fc
      .constantFrom("0", "3", "2.0", " 2", "v2", "")
      .map((v) => ({ label: `version ${JSON.stringify(v)}`, changes: { format_version: v } })),
  );
