// Jest only transpiles (isolated modules); `make typecheck` runs tsc once for the whole tree.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json", isolatedModules: true, diagnostics: false }],
  },
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/setup.ts"],
  testTimeout: 60000,
  // Both cores: most tests wait on child processes (make, node, terraform), not on jest itself.
  maxWorkers: 2,
};
