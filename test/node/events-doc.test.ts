import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { eventsDocPath, readmePath, renderEventsDoc, withEventsTable } from "../../workers/lib/events-doc.ts";

test("docs/events.md is the event catalogue as it is in the code (regenerate: node workers/lib/events-doc.ts)", () => {
  const doc = readFileSync(eventsDocPath, "utf8");
  expect(doc).toBe(renderEventsDoc());
  expect(doc).toContain("| `wallet.withdrawn` | `wallet.events` | aggregate `wallet:{user_id}` |");
});

test("README.md shows the catalogue's table as it is in the code (regenerate: node workers/lib/events-doc.ts)", () => {
  const readme = readFileSync(readmePath, "utf8");
  expect(readme).toBe(withEventsTable(readme));
  expect(readme).toContain("| `coupon.claimed` | `coupon.events` | aggregate `coupon:{name}` |");
});
