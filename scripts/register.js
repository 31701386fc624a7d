/**
 * Runs the project's TypeScript without a build step (`node -r ./scripts/register.js main.ts`), like
 * `sucrase/register`, with two differences that make every command start faster: the transpiled code
 * is cached in node_modules/.cache/accessweaver-ts, and no source map is attached (sucrase keeps line
 * numbers, so stack traces point at the right lines anyway).
 *
 * A cache entry is named after everything its output depends on: the sucrase version, the transform
 * options below, the file's path and its content. Any change to one of them transpiles again; the old
 * entries are never read again (`make clean` empties the folder).
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const CACHE = path.join(__dirname, "..", "node_modules", ".cache", "accessweaver-ts");
const SUCRASE = require("sucrase/package.json").version;
const OPTIONS = { transforms: ["imports", "typescript"] };
const KEY_PREFIX = `${SUCRASE}\0${JSON.stringify(OPTIONS)}`;
let transform;

function compiled(filename) {
  const code = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha256").update(`${KEY_PREFIX}\0${filename}\0${code}`).digest("hex");
  const cached = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // not cached yet
  }
  transform ??= require("sucrase").transform;
  const out = transform(code, { ...OPTIONS, filePath: filename }).code;
  // Written aside, then renamed: a reader never sees half a file. A read-only tree only loses the cache.
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    fs.writeFileSync(`${cached}.${process.pid}`, out);
    fs.renameSync(`${cached}.${process.pid}`, cached);
  } catch {
    // read-only or full: run without the cache
  }
  return out;
}

Module._extensions[".ts"] = function loadTs(module, filename) {
  module._compile(compiled(filename), filename);
};
