import { SignJWT } from "jose";
import { JWT_SECRET } from "./helpers";

const b64url = (obj: object) => btoa(JSON.stringify(obj)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A user token as an identity provider (or `npm run token`) would issue it. */
export async function userToken(
  sub: string,
  { expiresIn = "1h", secret = JWT_SECRET, claims = {} }: { expiresIn?: string | number; secret?: string; claims?: object } = {},
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** `Authorization` headers for the credentials an attacker might present. */
export async function credentials(sub: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    none: { authorization: "" },
    garbage: { authorization: "Bearer not-a-token" },
    basic: { authorization: "Basic dXNlcjpwYXNz" },
    wrongService: { authorization: "Bearer test-admin-tokeX" },
    expired: { authorization: `Bearer ${await userToken(sub, { expiresIn: now - 60 })}` },
    wrongKey: { authorization: `Bearer ${await userToken(sub, { secret: "another-secret-0123456789abcdef" })}` },
    algNone: { authorization: `Bearer ${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub, exp: now + 3600 })}.` },
    noExp: {
      authorization: `Bearer ${await new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(sub)
        .sign(new TextEncoder().encode(JWT_SECRET))}`,
    },
  };
}

export const asUser = async (sub: string) => ({ authorization: `Bearer ${await userToken(sub)}` });
