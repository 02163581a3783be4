// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
interface Secrets {
  /** Bearer token the Kafka bridge presents on /internal/*; unset turns those endpoints off. */
  BRIDGE_TOKEN?: string;
}
interface Env extends Secrets {}
declare namespace Cloudflare {
  interface Env extends Secrets {}
}
