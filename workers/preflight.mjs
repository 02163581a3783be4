// Loaded before every Node entry point (`node --import ./workers/preflight.mjs workers/….ts`).
// Plain JavaScript on purpose: it must run on the Node that cannot read the .ts files,
// to say in one line what to do instead of throwing ERR_UNKNOWN_FILE_EXTENSION.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `rushgate needs Node 22.18 or newer (it runs its .ts files directly); this is Node ${process.versions.node}. ` +
      "Install Node 22 (for example `nvm install 22`) and run the command again.\n",
  );
  process.exit(1);
}

// Missing or bad configuration is the operator's to fix, not a bug: one line, no stack.
// Entry points throw an error named ConfigError for it (workers/lib/config-error.ts).
process.on("uncaughtException", (error) => {
  if (error?.name === "ConfigError") {
    process.stderr.write(`rushgate: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
