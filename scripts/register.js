/**
 * Runs the project's TypeScript without a build step (`node -r ./scripts/register.js main.ts`), like
 * `sucrase/register`, with two differences that make every command start faster: the transpiled code
 * is cached in node_modules/.cache/accessweaver-ts, keyed by the file's path and content (and the
 * sucrase version), and no source map is attached (sucrase keeps line numbers, so stack traces point
 * at the right lines anyway).
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const CACHE = path.join(__dirname, "..", "node_modules", ".cache", "accessweaver-ts");
const SUCRASE = require("sucrase/package.json").version;
let transform;

function compiled(filename) {
  const code = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha256").update(`${SUCRASE}\0${filename}\0${code}`).digest("hex");
  const cached = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // not cached yet
  }
  transform ??= require("sucrase").transform;
  const out = transform(code, { transforms: ["imports", "typescript"], filePath: filename }).code;
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    fs.writeFileSync(`${cached}.${process.pid}`, out);
    fs.renameSync(`${cached}.${process.pid}`, cached);
  } catch {
    // a read-only tree only loses the cache
  }
  return out;
}

Module._extensions[".ts"] = function loadTs(module, filename) {
  module._compile(compiled(filename), filename);
};
