// Turns the ```sh blocks of the README and docs into a bash script with a marker
// after each command that has an expected output, and checks the output.
//
// The rules the documents follow (docs/testing.md):
// - every ```sh block runs, in order, one bash per file; ```sh skip blocks do not
//   (they start the stack or install things);
// - the first comment line directly under a command is its expected output; any
//   comment lines after it are other answers it can give, and are not checked;
// - `…` in an expected output stands for any text (ids, times, tokens);
// - `# 201 {…}` also checks the HTTP status, from `curl -i`'s status line.
import { readFileSync } from "node:fs";

export type Expectation = { file: string; line: number; command: string; expected: string };
export type Script = { file: string; text: string; expectations: Expectation[] };

const MARK = "@@readme-example-";

export function scriptOf(file: string, markdown: string, host: string): Script {
  const out: string[] = ["set -eo pipefail"];
  const expectations: Expectation[] = [];
  const lines = markdown.split("\n");
  let inBlock = false;
  let run = false;
  let command: string[] = [];
  let previous: "code" | "other" = "other";
  lines.forEach((raw, i) => {
    const fence = /^```(.*)$/.exec(raw.trim());
    if (fence) {
      if (!inBlock) {
        inBlock = true;
        run = fence[1]!.trim() === "sh";
      } else {
        inBlock = false;
        if (command.length) out.push(...command);
        command = [];
      }
      previous = "other";
      return;
    }
    if (!inBlock || !run) return;
    const line = raw.replaceAll("localhost:8787", host);
    const comment = /^\s*#\s?(.*)$/.exec(line);
    if (comment && previous === "code") {
      const n = expectations.length;
      expectations.push({ file, line: i + 1, command: command.join("\n"), expected: comment[1]!.trim() });
      out.push(...command, `printf '\\n%s\\n' '${MARK}${n}@@'`);
      command = [];
      previous = "other";
      return;
    }
    if (!comment) command.push(line);
    previous = comment || !line.trim() ? "other" : "code";
  });
  return { file, text: `${out.join("\n")}\n`, expectations };
}

export const scriptOfFile = (root: string, file: string, host: string) =>
  scriptOf(file, readFileSync(`${root}/${file}`, "utf8"), host);

/** Each expectation's output: what the script printed between its marker and the one before. */
export function outputs(stdout: string, count: number): string[] {
  const parts: string[] = [];
  let rest = stdout;
  for (let n = 0; n < count; n++) {
    const at = rest.indexOf(`${MARK}${n}@@`);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + `${MARK}${n}@@`.length);
  }
  return parts;
}

const pattern = (text: string) =>
  new RegExp(`^${text.split("…").map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*?")}$`, "s");

/** Null when the output matches the expectation, else what differs. */
export function mismatch(output: string, expected: string): string | null {
  const lines = output.split("\n").map((l) => l.trimEnd()).filter(Boolean);
  const last = lines.at(-1) ?? "";
  const withStatus = /^(\d{3}) (.*)$/.exec(expected);
  if (withStatus) {
    const status = [...output.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].at(-1)?.[1];
    if (status !== withStatus[1]) return `status ${status ?? "(none: use curl -i)"}, expected ${withStatus[1]}`;
    return pattern(withStatus[2]!).test(last) ? null : `got ${last}`;
  }
  return pattern(expected).test(last) ? null : `got ${last}`;
}
