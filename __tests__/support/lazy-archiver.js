// jest's counterpart of the lazy archiver in scripts/register.js (jest.config.js maps `archiver` here):
// cdktf's index loads it for TerraformAsset zips, which no stack has; it is loaded on its first call,
// from where cdktf loads it: its bundled copy, by path, so the mapping does not send it back here
// (__tests__/register.test.ts calls it, so a cdktf that stops bundling it fails there).
"use strict";
const path = require("path");

let archiver;
const bundled = () => require(path.join(path.dirname(require.resolve("cdktf/package.json")), "node_modules", "archiver"));
module.exports = (...args) => (archiver ??= bundled())(...args);
