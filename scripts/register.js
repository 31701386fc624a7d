/**
 * Runs the project's TypeScript without a build step (`node -r ./scripts/register.js main.ts`), like
 * `sucrase/register`, with two differences that make every command start faster: the transpiled code
 * is cached in node_modules/.cache/accessweaver-ts, keyed by the file's path and content (and the
 * sucrase version), and no source map is attached (sucrase keeps line numbers, so stack traces point
 * at the right lines anyway).
 */
"use strict";
// The Makefile starts node without NODE_EXTRA_CA_CERTS (Node loads that bundle at every start; no command
// here opens a TLS connection itself) and passes its value aside: back in place for the programs the
// command runs. A command that opens TLS itself would need it at start instead.
if (process.env.ACCESSWEAVER_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.ACCESSWEAVER_NODE_EXTRA_CA_CERTS;
  delete process.env.ACCESSWEAVER_NODE_EXTRA_CA_CERTS;
}
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

/**
 * Writes one cache file whole (a reader never sees half of it: written aside, then renamed). A read-only
 * tree only loses the cache: errors are dropped.
 */
function writeCache(file, data) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.${process.pid}`, data);
    fs.renameSync(`${file}.${process.pid}`, file);
  } catch {
    // read-only or full: run without the cache
  }
}

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
  writeCache(cached, out);
  return out;
}

Module._extensions[".ts"] = function loadTs(module, filename) {
  module._compile(compiled(filename), filename);
};

/*
 * V8 code cache for every module this process loads (about 12 MB of provider and cdktf JavaScript):
 * compiling it is a third of a synth's time. The compiled code of each module is kept in
 * node_modules/.cache/accessweaver-v8/<node version>, keyed by the module's path and content, and
 * written when the process exits (so functions compiled lazily during the run are included). V8
 * rejects a cache made by another version or for other source; the module is then compiled as usual.
 */
const vm = require("vm");
const V8_CACHE = path.join(__dirname, "..", "node_modules", ".cache", "accessweaver-v8", `${process.version}-${process.arch}`);
const toWrite = [];
const compile = Module.prototype._compile;

// Installed packages change only through npm, which rewrites their files: their path, size and
// modification time stand for their content (hashing 12 MB of it at every start costs more than the
// rest of the lookup). The project's own files are keyed by content.
const INSTALLED = (() => {
  const dir = path.join(__dirname, "..", "node_modules");
  try {
    return fs.realpathSync(dir) + path.sep; // modules are known by their real path
  } catch {
    return dir + path.sep;
  }
})();
function sourceStamp(filename, content) {
  if (!filename.startsWith(INSTALLED)) return content;
  try {
    const s = fs.statSync(filename);
    return `${s.size}\0${s.mtimeMs}`;
  } catch {
    return content;
  }
}

Module.prototype._compile = function compileWithCache(content, filename) {
  // Shebang files and anything unusual go the ordinary way.
  if (content.startsWith("#!") || typeof filename !== "string") return compile.call(this, content, filename);
  const key = crypto.createHash("sha1").update(`${filename}\0${sourceStamp(filename, content)}`).digest("hex");
  const file = path.join(V8_CACHE, `${key}.bin`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(file);
  } catch {
    // not cached yet
  }
  const script = new vm.Script(Module.wrap(content), { filename, cachedData });
  if (!cachedData || script.cachedDataRejected) toWrite.push([script, file]);
  const mod = this;
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  const fn = script.runInThisContext({ displayErrors: true });
  return fn.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
};

process.once("exit", () => {
  for (const [script, file] of toWrite) writeCache(file, script.createCachedData());
});

/*
 * Where `require` calls lead: a synth makes about 700 lookups, each a few file-system probes (together
 * about 5 % of `make synth`). Those made from installed packages, and those of a package name from
 * anywhere, depend only on the installed tree, which npm records in node_modules/.package-lock.json at
 * every `npm ci` or install, and on how node was started: the answers are kept in
 * node_modules/.cache/accessweaver-resolve, in a file named after that record's size and modification
 * time, the Node version and architecture, node's options (`--conditions`, `--preserve-symlinks`, ...)
 * and NODE_PATH. A relative request or a `#` import from the project's own files is always looked up
 * (adding a file or an import may change its answer), and so is an answer whose file is gone. Any other
 * change to node_modules by hand (not through npm) needs that folder deleted.
 */
const RESOLVE_CACHE_FILE = (() => {
  try {
    const tree = fs.statSync(path.join(INSTALLED, ".package-lock.json"));
    const stamp = JSON.stringify(["v1", tree.size, tree.mtimeMs, process.version, process.arch, process.execArgv, process.env.NODE_OPTIONS ?? "", process.env.NODE_PATH ?? ""]);
    return path.join(INSTALLED, ".cache", "accessweaver-resolve", `${crypto.createHash("sha1").update(stamp).digest("hex")}.json`);
  } catch {
    return undefined; // no record of the installed tree: look everything up
  }
})();
let resolved = {};
let resolvedAdded = false;
try {
  const read = RESOLVE_CACHE_FILE && JSON.parse(fs.readFileSync(RESOLVE_CACHE_FILE, "utf8"));
  if (read && typeof read === "object" && !Array.isArray(read)) resolved = read;
} catch {
  // not cached yet
}
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveWithCache(request, parent, isMain, options) {
  const cacheable =
    RESOLVE_CACHE_FILE !== undefined &&
    !isMain &&
    options === undefined &&
    parent &&
    typeof parent.filename === "string" &&
    !Module.isBuiltin(request) &&
    (parent.filename.startsWith(INSTALLED) || !/^[./\\#]/.test(request));
  if (!cacheable) return resolveFilename.call(this, request, parent, isMain, options);
  const key = `${path.dirname(parent.filename)}\0${request}`;
  // A cached answer whose file is gone (a package moved a file) is looked up again.
  if (Object.hasOwn(resolved, key) && fs.existsSync(resolved[key])) return resolved[key];
  const filename = resolveFilename.call(this, request, parent, isMain, options);
  if (filename.startsWith(INSTALLED)) {
    resolved[key] = filename;
    resolvedAdded = true;
  }
  return filename;
};
process.once("exit", () => {
  if (resolvedAdded) writeCache(RESOLVE_CACHE_FILE, JSON.stringify(resolved));
});

/*
 * cdktf's index loads two libraries for features no stack here uses, about a tenth of a synth's time
 * between them: `archiver` (a zip library and its dependencies) to zip a TerraformAsset directory, and
 * `semver` (45 modules) for ValidateBinaryVersion. cdktf gets a stand-in that loads the library on its
 * first use instead: a function for archiver (private/fs.js calls `archiver("zip", ...)`), an object
 * for semver (`semver.satisfies(...)`). Pinned cdktf: another layout only loads them eagerly again.
 */
const LAZY = {
  archiver: {
    from: path.join("cdktf", "lib", "private", "fs.js"),
    standIn: (load) => (...args) => load()(...args),
  },
  semver: {
    from: path.join("cdktf", "lib", "validations", "validate-binary-version.js"),
    standIn: (load) => new Proxy({}, { get: (_, key) => load()[key] }),
  },
};
const load = Module._load;
Module._load = function loadLazily(request, parent, isMain) {
  const lazy = Object.hasOwn(LAZY, request) ? LAZY[request] : undefined;
  if (lazy && parent && typeof parent.filename === "string" && parent.filename.endsWith(lazy.from)) {
    let loaded;
    return lazy.standIn(() => (loaded ??= load.call(Module, request, parent, isMain)));
  }
  return load.call(this, request, parent, isMain);
};
