// Renders docs/events.md from the event catalogue (src/lib/events.ts), so the
// table cannot drift from the code: `node workers/lib/events-doc.ts` rewrites
// it, and test/node/events-doc.test.ts fails when it is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { CATALOGUE, type AggregateKind, type EventType } from "../../src/lib/events.ts";

const keys: Record<AggregateKind, string> = {
  coupon: "aggregate `coupon:{name}`",
  campaign: "aggregate `campaign:{id}` or `campaign:{id}/{shard}`",
  wallet: "aggregate `wallet:{user_id}`",
  offers: "aggregate `offers:catalogue` (on offers.rules: the offer id)",
  odds: "aggregate `odds:{event_id}`",
  kafka: "the original message's key",
};

type Shape = { shape?: Record<string, Shape> };
const fields = (shape: Record<string, Shape>): string =>
  Object.entries(shape)
    .map(([name, s]) => (s.shape ? `${name} {${fields(s.shape)}}` : name))
    .join(", ");

function topicOf(type: EventType): string {
  const spec = CATALOGUE[type] as (typeof CATALOGUE)[EventType] & { also?: { topic: string } };
  return spec.also ? `\`${spec.topic}\`; also \`${spec.also.topic}\` in its original shape` : `\`${spec.topic}\``;
}
const dataOf = (type: EventType) => fields(CATALOGUE[type].data.shape as Record<string, Shape>);

/** The short table the README shows: type, topic, key, payload fields. */
export function renderEventsTable(): string {
  const rows = (Object.keys(CATALOGUE) as EventType[]).map(
    (type) => `| \`${type}\` | ${topicOf(type)} | ${keys[CATALOGUE[type].aggregate]} | ${dataOf(type)} |`,
  );
  return ["| type | topic | key | payload fields |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

export function renderEventsDoc(): string {
  const rows = (Object.keys(CATALOGUE) as EventType[]).map(
    (type) => `| \`${type}\` | ${topicOf(type)} | ${keys[CATALOGUE[type].aggregate]} | ${dataOf(type)} | ${CATALOGUE[type].about} |`,
  );
  return `# Event catalogue

Generated from \`src/lib/events.ts\` by \`node workers/lib/events-doc.ts\`; do not edit by hand.

Every event is an envelope \`{id, type, aggregate, seq, time, data}\`: \`id\` is
\`\${aggregate}:\${seq}\`, \`seq\` is gapless per aggregate, and \`time\` is the
mutation's own time (ISO-8601 UTC). On Kafka, key = aggregate, value = \`data\`
as JSON, headers \`event-id\`, \`event-type\`, \`aggregate\`, \`seq\`, \`time\`.

Rules for \`data\`: money is integer minor units named \`*_cents\`; a time is an
ISO-8601 UTC string named \`*_at\` (an instant; equal to the envelope's \`time\`
when it is the mutation's) or \`*_time\` (a boundary someone set). The
exceptions are the original systems' shapes, each marked ORIGINAL SHAPE below.
Wallet events also carry \`user_id, currency\` and the balances after the
change (\`cash_posted_cents, cash_held_cents, bonus_posted_cents, updated_at\`);
those that post a ledger entry carry it as \`entry\`, exactly as
\`GET /api/wallets/{user}/ledger\` shows it.

| type | topic | key | payload fields | meaning |
| --- | --- | --- | --- | --- |
${rows.join("\n")}
`;
}

export const eventsDocPath = new URL("../../docs/events.md", import.meta.url);
export const readmePath = new URL("../../README.md", import.meta.url);
const START = "<!-- events:start -->";
const END = "<!-- events:end -->";

/** README.md with the table between its markers replaced by the catalogue's. */
export function withEventsTable(readme: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md has no ${START} … ${END} block`);
  return `${readme.slice(0, from + START.length)}\n${renderEventsTable()}\n${readme.slice(to)}`;
}

if (import.meta.main) {
  writeFileSync(eventsDocPath, renderEventsDoc());
  writeFileSync(readmePath, withEventsTable(readFileSync(readmePath, "utf8")));
}
