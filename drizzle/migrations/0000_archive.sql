CREATE TABLE "bets" (
	"bet_id" text PRIMARY KEY NOT NULL,
	"user_id" text,
	"event_ref" text,
	"market" text,
	"selection" text,
	"stake_cents" bigint,
	"currency" text,
	"odd_value" text,
	"potential_win_cents" bigint,
	"status" text NOT NULL,
	"result" text,
	"payout_cents" bigint,
	"placed_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"placed_event_id" text,
	"settled_event_id" text
);
--> statement-breakpoint
CREATE TABLE "claim_log" (
	"event_id" text PRIMARY KEY NOT NULL,
	"campaign_id" text,
	"user_id" text,
	"amount" bigint,
	"shard" bigint,
	"ts" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "coupon_claims" (
	"event_id" text PRIMARY KEY NOT NULL,
	"coupon_name" text,
	"user_id" text,
	"remaining_amount" bigint,
	"claimed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"aggregate" text NOT NULL,
	"seq" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"event_id" text PRIMARY KEY NOT NULL,
	"user_id" text,
	"entry_id" text,
	"kind" text NOT NULL,
	"amount_cents" bigint,
	"balance_after_cents" bigint,
	"ref" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "bets_user_placed_at" ON "bets" USING btree ("user_id","placed_at");--> statement-breakpoint
CREATE INDEX "bets_market" ON "bets" USING btree ("market");--> statement-breakpoint
CREATE INDEX "claim_log_campaign_ts" ON "claim_log" USING btree ("campaign_id","ts");--> statement-breakpoint
CREATE INDEX "claim_log_user" ON "claim_log" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "coupon_claims_coupon_user" ON "coupon_claims" USING btree ("coupon_name","user_id");--> statement-breakpoint
CREATE INDEX "coupon_claims_user" ON "coupon_claims" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "events_aggregate_seq" ON "events" USING btree ("aggregate","seq");--> statement-breakpoint
CREATE INDEX "events_type_occurred_at" ON "events" USING btree ("type","occurred_at");--> statement-breakpoint
CREATE INDEX "ledger_entries_user_created_at" ON "ledger_entries" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "ledger_entries_ref" ON "ledger_entries" USING btree ("ref");