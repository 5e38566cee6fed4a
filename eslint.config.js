// ESLint for the whole workspace, configured once at the root: typescript-eslint's type-aware
// recommended rules over every TypeScript project (found through the project service), the plain
// recommended rules for JavaScript, and Prettier (`.prettierrc.json`) for layout. `pnpm lint` runs
// both; `.ci/run` runs `pnpm lint`.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "coverage/**",
      "docs/api/**",
      "examples/playground/e2e/artifacts/**",
      ".ci/pnpm/**",
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The vitest configs belong to no tsconfig (a package's holds src and test, the root's none):
        // they get the default project. One per package plus the root's: nine with @rewind/webgpu,
        // past typescript-eslint's default limit of eight, which guards against globs matching
        // whole source trees (these are small config files).
        projectService: {
          allowDefaultProject: ["vitest.config.ts", "packages/*/vitest.config.ts"],
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Unused names are errors, except the `_`-prefixed ones that document a deliberately
      // ignored argument (a VJP rule that does not need its primal, say).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // The packages' sources: no line over 120 characters (Prettier wraps code at 120; strings,
    // comments and URLs must be wrapped by hand).
    files: ["packages/*/src/**/*.ts"],
    rules: { "max-len": ["error", { code: 120, ignoreUrls: false }] },
  },
  {
    // Tests feed hostile, untyped input on purpose (a shape that is a string, a tensor that is a
    // plain object), so the rules that forbid reading `any` would forbid the tests themselves.
    files: ["**/test/**/*.ts", "test/**/*.ts", "**/*.test.ts", "**/e2e/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-base-to-string": "off",
      "@typescript-eslint/restrict-template-expressions": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The consumer test's browser entries are bundled by esbuild into a web page.
    files: ["test/consumer/files/browser*.mjs"],
    languageOptions: { globals: { ...globals.browser } },
  },
);
