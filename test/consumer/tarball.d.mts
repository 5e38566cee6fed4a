/** Types of ./tarball.mjs, for the tests written in TypeScript. */
export interface TarFile {
  readonly path: string;
  readonly bytes: Buffer;
}
export declare const readTarball: (file: string) => TarFile[];
export declare const FORBIDDEN: ReadonlyArray<{ readonly what: string; readonly re: RegExp }>;
export declare const checkTarball: (
  files: readonly TarFile[],
  expected: { readonly version: string; readonly license: string; readonly licenceText: Buffer },
) => string[];
export declare const listing: (files: readonly TarFile[]) => string[];
