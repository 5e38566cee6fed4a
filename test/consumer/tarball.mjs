/**
 * @file Reads an npm tarball (.tgz) with Node alone — no `tar` binary — and checks what a
 * published Rewind package must and must not contain.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/**
 * The regular files of a .tgz as `{ path, bytes }`, paths without npm's leading `package/`.
 * Handles the three ways of storing long names: ustar prefixes, pax `path` records and GNU `L` entries.
 * @example readTarball("rewind-rnn-0.1.0.tgz").map((f) => f.path) // ["package.json", "dist/index.js", …]
 */
export const readTarball = (file) => {
  const tar = gunzipSync(readFileSync(file));
  const files = [];
  let paxPath;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from, to) => header.subarray(from, to).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(field(124, 136).trim() || "0", 8);
    const type = field(156, 157) || "0";
    const body = tar.subarray(at + 512, at + 512 + size);
    const prefix = field(257, 263).startsWith("ustar") ? field(345, 500) : "";
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    if (type === "x") {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1];
    } else if (type === "L") {
      paxPath = body.toString("utf8").replace(/\0.*$/s, ""); // GNU tar's long name
    } else {
      if (type === "0" || type === "7") files.push({ path: name.replace(/^package\//, ""), bytes: body });
      paxPath = undefined;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
};

/** Paths a published package must not ship: tests, fixtures, benchmarks, TypeScript sources, build state. */
export const FORBIDDEN = [
  { what: "a test", re: /(^|\/)(test|tests|__tests__|e2e)\/|\.(test|spec)\.[cm]?[jt]sx?$/ },
  { what: "a fixture", re: /(^|\/)(fixtures?|__fixtures__|testdata)\// },
  { what: "a benchmark", re: /(^|\/)bench\/|\.bench\.[cm]?[jt]s$/ },
  { what: "a TypeScript source", re: /(?<!\.d)\.[cm]?ts$/ },
  { what: "build state", re: /\.tsbuildinfo$/ },
];

/** Every export target string of an `exports` map (nested conditions included). */
const targets = (exp) => (typeof exp === "string" ? [exp] : Object.values(exp ?? {}).flatMap(targets));

/**
 * The problems of one packed package: forbidden files, a missing README/LICENSE/CHANGELOG, a
 * manifest that still names the workspace (`workspace:` ranges, `private`, exports into src/),
 * or an export whose file is not in the tarball. An empty list means the tarball is fine.
 * @example checkTarball(readTarball(file), { version: "0.1.0", license: "MIT" }) // []
 */
export const checkTarball = (files, expected) => {
  const problems = [];
  const paths = new Set(files.map((f) => f.path));
  for (const path of paths)
    for (const { what, re } of FORBIDDEN) if (re.test(path)) problems.push(`${path} is ${what}`);
  for (const need of ["package.json", "README.md", "LICENSE", "CHANGELOG.md"])
    if (!paths.has(need)) problems.push(`${need} is missing`);
  const manifestFile = files.find((f) => f.path === "package.json");
  if (manifestFile === undefined) return problems;
  const manifest = JSON.parse(manifestFile.bytes.toString("utf8"));
  if (manifest.private) problems.push(`package.json: "private": true`);
  if (manifest.version !== expected.version)
    problems.push(`package.json: version ${manifest.version}, expected ${expected.version}`);
  if (manifest.license !== expected.license)
    problems.push(`package.json: license ${manifest.license}, expected ${expected.license}`);
  for (const field of ["description", "keywords", "repository", "homepage", "engines", "files"]) {
    if (manifest[field] === undefined) problems.push(`package.json: no "${field}"`);
  }
  if (!("sideEffects" in manifest)) problems.push(`package.json: no "sideEffects"`);
  for (const deps of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [name, range] of Object.entries(manifest[deps] ?? {})) {
      if (String(range).startsWith("workspace:")) problems.push(`package.json: ${deps}.${name} is still "${range}"`);
    }
  }
  for (const target of targets(manifest.exports)) {
    const path = target.replace(/^\.\//, "");
    if (!path.startsWith("dist/") && path !== "package.json")
      problems.push(`package.json: an export points at ${target}, outside dist/`);
    else if (!paths.has(path))
      problems.push(`package.json: an export points at ${target}, which is not in the tarball`);
  }
  const licence = files.find((f) => f.path === "LICENSE");
  if (licence !== undefined && !licence.bytes.equals(expected.licenceText))
    problems.push("LICENSE differs from the repository's LICENSE");
  return problems;
};

/**
 * A file list in a few lines: the declaration, map and JavaScript files of one module share a line,
 * `dist/kernels/matmul.{js,js.map,d.ts,d.ts.map}`, with the sizes summed.
 * @example listing([{ path: "dist/a.js", bytes }, { path: "dist/a.d.ts", bytes }]) // ["dist/a.{d.ts,js}  1.2 kB"]
 */
export const listing = (files) => {
  const groups = new Map();
  for (const { path, bytes } of files) {
    const m = /^(.*?)\.(js|js\.map|d\.ts|d\.ts\.map)$/.exec(path);
    const [stem, ext] = m ? [m[1], m[2]] : [path, ""];
    const g = groups.get(stem) ?? { exts: [], size: 0 };
    g.exts.push(ext);
    g.size += bytes.length;
    groups.set(stem, g);
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stem, g]) => {
      const exts = g.exts.filter((e) => e !== "").sort();
      const name = exts.length === 0 ? stem : exts.length === 1 ? `${stem}.${exts[0]}` : `${stem}.{${exts.join(",")}}`;
      return `${name.padEnd(56)} ${(g.size / 1000).toFixed(1).padStart(6)} kB`;
    });
};
