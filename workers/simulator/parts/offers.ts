// Offers and the stake gate (issue 9): wired once the engine is on the target.
import type { Part } from "../run.ts";

export const offers: Part = { name: "offers" };
