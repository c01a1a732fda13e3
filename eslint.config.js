// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

/** The project's lint: the recommended JavaScript and TypeScript rules, formatting left to Prettier. */
export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".data/", "coverage/", "test/client/api-types.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      // A leading underscore marks what is left unused on purpose (a destructured field dropped).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
    },
  },
  prettier,
);
