// Local secrets for `npm run dev`, `npm run start` and `npm run token`, kept in
// .dev.vars (gitignored), which `wrangler dev` reads too. A missing secret is
// created at random on first use, so a fresh clone needs no setup.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const DEV_SECRETS = ["ADMIN_TOKEN", "JWT_SECRET", "BRIDGE_TOKEN"] as const;
export type DevSecrets = Record<(typeof DEV_SECRETS)[number], string>;

const root = new URL("../..", import.meta.url).pathname;
export const devVarsFile = `${root}.dev.vars`;

/** Reads `KEY="value"` lines from a .dev.vars-style file. */
export function readDevVars(file = devVarsFile): Record<string, string> {
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*"?([^"\n]*)"?\s*$/.exec(line);
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

/** The local secrets, adding any that are missing to the file. Returns which were created. */
export function ensureDevVars(file = devVarsFile): { secrets: DevSecrets; created: string[] } {
  const vars = readDevVars(file);
  const created = DEV_SECRETS.filter((k) => !vars[k]);
  if (created.length) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    const lines = created.map((k) => `${k}="${randomBytes(24).toString("hex")}"`);
    writeFileSync(file, `${text}${text && !text.endsWith("\n") ? "\n" : ""}${lines.join("\n")}\n`);
  }
  const secrets = readDevVars(file) as DevSecrets;
  return { secrets, created };
}
