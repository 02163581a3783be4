CREATE TABLE "bet_qualifications" (
	"event_id" text PRIMARY KEY NOT NULL,
	"user_id" text,
	"bet_key" text,
	"event_ref" text,
	"market" text,
	"stake_cents" bigint,
	"bet_ts" timestamp with time zone,
	"window_start" timestamp with time zone,
	"window_sum_cents" bigint,
	"qualified_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offer_awards" (
	"award_id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"user_id" text,
	"offer_id" text,
	"offer_version" bigint,
	"bet_key" text,
	"event_ref" text,
	"stake_cents" bigint,
	"bonus_cents" bigint,
	"ledger_seq" bigint,
	"awarded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "bet_qualifications_user_window" ON "bet_qualifications" USING btree ("user_id","window_start");--> statement-breakpoint
CREATE INDEX "offer_awards_user_awarded_at" ON "offer_awards" USING btree ("user_id","awarded_at");--> statement-breakpoint
CREATE INDEX "offer_awards_offer" ON "offer_awards" USING btree ("offer_id");