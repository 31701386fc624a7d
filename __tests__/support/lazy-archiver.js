// jest's counterpart of the lazy archiver in scripts/register.js (jest.config.js maps `archiver` here):
// cdktf's index loads it for TerraformAsset zips, which no stack has; it is loaded on its first call,
// from where cdktf would load it (its bundled copy; a path, so the mapping does not send it back here).
"use strict";
const fs = require("fs");
const path = require("path");

let archiver;
function real() {
  const bundled = path.join(path.dirname(require.resolve("cdktf/package.json")), "node_modules", "archiver");
  return require(fs.existsSync(bundled) ? bundled : path.join(__dirname, "..", "..", "node_modules", "archiver"));
}
module.exports = (...args) => (archiver ??= real())(...args);
