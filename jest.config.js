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
  // One more worker than the two cores: the slowest files mostly wait on the processes they spawn (make,
  // node, the stand-ins), so a third file runs in that time (bench: about 7 s less for make unit).
  maxWorkers: 3,
};
