/** Types of ./readme.mjs, for the tests written in TypeScript. */
export declare const readmeBlocks: (file: string) => Array<{ name: string; code: string; output: string | undefined }>;
