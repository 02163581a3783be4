import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { eventsDocPath, renderEventsDoc } from "../../workers/lib/events-doc.ts";

test("docs/events.md is the event catalogue as it is in the code (regenerate: node workers/lib/events-doc.ts)", () => {
  const doc = readFileSync(eventsDocPath, "utf8");
  expect(doc).toBe(renderEventsDoc());
  expect(doc).toContain("| `wallet.withdrawn` | `wallet.events` | aggregate `wallet:{user_id}` |");
});
