// `npm run start`: the Worker on the production runtime. Bundles it as
// `wrangler deploy` does and serves it with `workerd serve` on PORT (default
// 8787), Durable Object storage (SQLite) in .data/workerd/, [vars] from
// wrangler.toml, secrets from .dev.vars or the environment. Ctrl-C stops it.
import { readSecrets, rushgateSpec, serve } from "./lib/workerd-config.ts";

const port = Number(process.env.PORT ?? 8787);
const secrets = readSecrets();
const spec = await rushgateSpec({ outdir: ".wrangler/start", storage: ".data/workerd", secrets });
const served = await serve(spec, { port, host: process.env.HOST ?? "127.0.0.1" });
console.log(`rushgate on workerd serve at ${served.url.href} (pid ${served.pid}); secrets: ${Object.keys(secrets).join(", ") || "none"}`);
const stop = () => void served.stop().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
served.child.once("exit", (code) => {
  console.error(`workerd exited (${code})`);
  process.exit(code ?? 1);
});
