// `npm run token -- <user_id> [--ttl 1h]`: prints a user JWT (HS256, signed with
// JWT_SECRET from .dev.vars or the environment) for local calls as that user.
// `npm run token -- --service` prints the service token instead.
import { SignJWT } from "jose";
import { ensureDevVars, readDevVars } from "./lib/dev-vars.ts";

const args = process.argv.slice(2);
const { secrets } = ensureDevVars();
const secret = process.env.JWT_SECRET ?? secrets.JWT_SECRET;

if (args.includes("--service")) {
  console.log(process.env.ADMIN_TOKEN ?? secrets.ADMIN_TOKEN);
} else {
  const user = args.find((a) => !a.startsWith("--"));
  const ttlAt = args.indexOf("--ttl");
  const ttl = ttlAt >= 0 ? args[ttlAt + 1] : "12h";
  if (!user) {
    console.error("usage: npm run token -- <user_id> [--ttl 1h]   |   npm run token -- --service");
    process.exit(2);
  }
  const token = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(user).setIssuedAt();
  // Match the Worker's iss/aud checks when they are configured.
  const vars = readDevVars();
  const issuer = process.env.JWT_ISSUER ?? vars.JWT_ISSUER;
  const audience = process.env.JWT_AUDIENCE ?? vars.JWT_AUDIENCE;
  if (issuer) token.setIssuer(issuer);
  if (audience) token.setAudience(audience);
  const jwt = await token.setExpirationTime(ttl ?? "12h").sign(new TextEncoder().encode(secret));
  console.log(jwt);
}
