// ESLint: the JavaScript and typescript-eslint recommended rules, and what this file says. `make lint` runs it.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/", "cdktf.out/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, NodeJS: "readonly" } },
    // A disable comment that no longer silences anything is an error: it would hide the next real one.
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // A leading underscore marks a value left out on purpose (a destructured field dropped from a copy).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    // The require hook that `node -r` loads before any TypeScript, and jest's configuration: CommonJS by nature.
    files: ["scripts/register.js", "jest.config.js"],
    languageOptions: { sourceType: "commonjs" },
    // `crypto` is also a global of recent Node; the hook requires the module, as CommonJS does.
    rules: { "@typescript-eslint/no-require-imports": "off", "no-redeclare": "off" },
  },
  {
    // Tests read synthesized Terraform JSON and plans key by key, as Terraform does: untyped by nature.
    files: ["__tests__/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
