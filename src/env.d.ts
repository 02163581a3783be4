// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
interface Secrets {
  /** The operator's service token (Authorization: Bearer). Unset: no service calls succeed. */
  ADMIN_TOKEN?: string;
  /** HS256 key for end-user JWTs. */
  JWT_SECRET?: string;
  /** A JWKS URL for RS256/ES256 end-user JWTs from an identity provider. */
  JWT_JWKS_URL?: string;
  /** When set, a user JWT's `iss` and `aud` must match. */
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  /** Bearer token the Kafka bridge presents on /internal/*; unset turns those endpoints off. */
  BRIDGE_TOKEN?: string;
}
interface Env extends Secrets {}
declare namespace Cloudflare {
  interface Env extends Secrets {}
}
