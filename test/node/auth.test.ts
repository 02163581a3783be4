// User tokens from an identity provider (RS256/ES256 through a JWKS URL, with
// iss/aud checks) and from `npm run token` (HS256), against the Worker on workerd.
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, startRushgate, type Runtime } from "../../bench/lib/runtime.ts";

const root = new URL("../..", import.meta.url).pathname;
const ADMIN = "node-auth-admin";
const HS_SECRET = "node-auth-hs-secret-0123456789abcdef";
let jwks: Server;
let worker: Runtime;
let rsKey: CryptoKey;
let esKey: CryptoKey;
let strangerKey: CryptoKey;

beforeAll(async () => {
  [rsKey, esKey, strangerKey] = await Promise.all([
    generateKeyPair("RS256").then((k) => {
      rsPublic = k.publicKey;
      return k.privateKey;
    }),
    generateKeyPair("ES256").then((k) => {
      esPublic = k.publicKey;
      return k.privateKey;
    }),
    generateKeyPair("RS256").then((k) => k.privateKey),
  ]);
  const keys = [
    { ...(await exportJWK(rsPublic)), kid: "rs", alg: "RS256", use: "sig" },
    { ...(await exportJWK(esPublic)), kid: "es", alg: "ES256", use: "sig" },
  ];
  jwks = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys })));
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  const { port } = jwks.address() as { port: number };
  build();
  worker = await startRushgate({
    ADMIN_TOKEN: ADMIN,
    JWT_SECRET: HS_SECRET,
    JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    JWT_ISSUER: "https://id.example",
    JWT_AUDIENCE: "rushgate",
  });
}, 120_000);
let rsPublic: CryptoKey;
let esPublic: CryptoKey;

afterAll(async () => {
  await worker?.stop();
  await new Promise((r) => jwks?.close(r));
});

const wallet = (user: string, token: string) =>
  fetch(new URL(`/api/wallets/${user}`, worker.url), { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { error?: string; user_id?: string },
  }));

const idpToken = (key: CryptoKey, alg: string, kid: string, claims: { sub: string; iss?: string; aud?: string }) =>
  new SignJWT({})
    .setProtectedHeader({ alg, kid })
    .setSubject(claims.sub)
    .setIssuer(claims.iss ?? "https://id.example")
    .setAudience(claims.aud ?? "rushgate")
    .setExpirationTime("5m")
    .sign(key);

describe("identity-provider tokens via JWKS", () => {
  it("accepts RS256 and ES256 tokens with the configured issuer and audience, for their own user only", async () => {
    for (const [key, alg, kid] of [
      [rsKey, "RS256", "rs"],
      [esKey, "ES256", "es"],
    ] as const) {
      const token = await idpToken(key, alg, kid, { sub: "alice" });
      expect(await wallet("alice", token)).toMatchObject({ status: 200, body: { user_id: "alice" } });
      expect((await wallet("bob", token)).status).toBe(403);
    }
  });

  it("refuses a wrong issuer, a wrong audience, and a key that is not in the JWKS", async () => {
    expect((await wallet("alice", await idpToken(rsKey, "RS256", "rs", { sub: "alice", iss: "https://evil.example" }))).status).toBe(401);
    expect((await wallet("alice", await idpToken(rsKey, "RS256", "rs", { sub: "alice", aud: "other" }))).status).toBe(401);
    expect((await wallet("alice", await idpToken(strangerKey, "RS256", "rs", { sub: "alice" }))).status).toBe(401);
  });
});

describe("npm run token", () => {
  it("prints an HS256 token for the user that the Worker accepts for that user alone", async () => {
    const run = (...args: string[]) =>
      execFileSync(process.execPath, ["workers/token.ts", ...args], {
        cwd: root,
        env: { ...process.env, JWT_SECRET: HS_SECRET, ADMIN_TOKEN: ADMIN, JWT_ISSUER: "https://id.example", JWT_AUDIENCE: "rushgate" },
        encoding: "utf8",
      }).trim();
    const carol = run("carol");
    expect((await wallet("carol", carol)).status).toBe(200);
    expect((await wallet("dave", carol)).status).toBe(403);
    expect((await wallet("carol", run("carol", "--ttl", "-1m"))).status).toBe(401);
    // The service token it prints is the one the Worker knows.
    expect((await wallet("dave", run("--service"))).status).toBe(200);
  });
});
