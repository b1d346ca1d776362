// Starting the emulator for the console test (the shared Node.js launcher,
// without the OCI SDK).
"use strict";

const emulator = require("../../node-emulator.js");

module.exports = { REPO_ROOT: emulator.REPO_ROOT, start: () => emulator.start("console") };
