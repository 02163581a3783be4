// WebSocket subscribers (issue 10): wired once the feeds are on the target.
import type { Part } from "../run.ts";

export const feeds: Part = { name: "feeds" };
