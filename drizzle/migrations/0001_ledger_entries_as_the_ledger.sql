ALTER TABLE "ledger_entries" ADD COLUMN "ledger_seq" bigint;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "balance" text;--> statement-breakpoint
-- Backfill. Before this migration the archiver wrote one ledger_entries row per
-- wallet.* event, with the event's suffix as kind ('deposited'), the unsigned
-- movement as amount, and NULL entry_id and balance_after_cents. Rows written
-- that way are corrected in place from the events table, which keeps every
-- envelope whole: holds and releases post no ledger entry, so their rows go;
-- the rest get the ledger's kind, sign, balance and balance after. entry_id
-- stays NULL for those rows (the wallet did not emit it then), and so does the
-- ref of an old BONUS_CREDIT row (not in its event).
DELETE FROM "ledger_entries" WHERE "kind" IN ('held', 'released');--> statement-breakpoint
UPDATE "ledger_entries" AS l SET
  "kind" = m.kind,
  "balance" = m.balance,
  "amount_cents" = m.sign * abs(l."amount_cents"),
  "balance_after_cents" = (e."data" ->> (m.balance || '_posted_cents'))::bigint,
  "ledger_seq" = (e."data" ->> 'ledger_seq')::bigint,
  "ref" = coalesce(l."ref", e."data" ->> 'bet_id')
FROM "events" AS e,
  (VALUES
    ('deposited', 'DEPOSIT', 'cash', 1),
    ('withdrawn', 'WITHDRAWAL', 'cash', -1),
    ('captured', 'CAPTURE', 'cash', -1),
    ('winnings_credited', 'WINNINGS', 'cash', 1),
    ('bonus_credited', 'BONUS_CREDIT', 'bonus', 1)
  ) AS m(old, kind, balance, sign)
WHERE e."event_id" = l."event_id" AND l."kind" = m.old;
