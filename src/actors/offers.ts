import { Actor } from "../lib/actor";
import { fail, ok, type Result } from "../lib/errors";
import {
  applyPatch,
  changesBetween,
  publicOffer,
  type Offer,
  type OfferPatch,
  type OfferTerms,
  type StoredOffer,
} from "../lib/offers";
import type { OfferSnapshot } from "../lib/offer-snapshot";

/** The one catalogue object's name: offers are few and change rarely, so one object holds them all. */
export const CATALOGUE = "catalogue";
export const AGGREGATE = `offers:${CATALOGUE}`;

export type OfferVersion = {
  version: number;
  made_by: string;
  made_at: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  offer: Offer;
};

export type UpsertOutcome = { offer: Offer; changed: boolean };

type OfferRow = { id: string; seq: number; version: number; terms: string; created_at: string; updated_at: string };

const rowToOffer = (r: OfferRow): StoredOffer => ({
  ...(JSON.parse(r.terms) as OfferTerms),
  id: r.id,
  seq: r.seq,
  version: r.version,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/**
 * The offers catalogue: every offer and every immutable version of it. Each
 * change bumps the catalogue's version, which the wallets' snapshot cache
 * (src/lib/offer-snapshot.ts) compares to skip reloading what has not changed.
 * Every change emits `offer.upserted`, which the bridge also publishes to
 * `offers.rules` in the original rule shape.
 */
export class Offers extends Actor<"offers"> {
  protected readonly kind = "offers";
  static migrations = [
    {
      id: "offers-1",
      sql: `
        CREATE TABLE offers (
          id TEXT PRIMARY KEY,
          seq INTEGER NOT NULL UNIQUE,
          version INTEGER NOT NULL,
          terms TEXT NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
        CREATE TABLE offer_versions (
          offer_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          catalogue_version INTEGER NOT NULL UNIQUE,
          terms TEXT NOT NULL,
          changes TEXT NOT NULL,
          made_by TEXT NOT NULL,
          made_at TEXT NOT NULL,
          PRIMARY KEY (offer_id, version)
        );
        -- Inbound offers.rules messages already applied, by their Kafka position.
        CREATE TABLE applied_rules (message_id TEXT PRIMARY KEY, offer_id TEXT NOT NULL, applied_at TEXT NOT NULL);
      `,
    },
  ];

  // All offers, loaded once and kept in step after each committed change.
  private cache: Map<string, StoredOffer> | undefined;
  private catalogueVersion = 0;

  private all(): Map<string, StoredOffer> {
    if (!this.cache) {
      const rows = this.sql.exec<OfferRow>("SELECT id, seq, version, terms, created_at, updated_at FROM offers ORDER BY seq").toArray();
      this.cache = new Map(rows.map((r) => [r.id, rowToOffer(r)]));
      this.catalogueVersion =
        this.sql.exec<{ v: number | null }>("SELECT max(catalogue_version) AS v FROM offer_versions").one().v ?? 0;
    }
    return this.cache;
  }

  create(id: string, patch: OfferPatch, by: string): Result<Offer> {
    if (this.all().has(id)) return fail(409, "DUPLICATE_OFFER", `offer ${id} already exists`);
    return this.write(id, patch, by, "create");
  }

  update(id: string, patch: OfferPatch, by: string): Result<UpsertOutcome> {
    if (!this.all().has(id)) return fail(404, "NOT_FOUND", `no offer ${id}`);
    return this.upsert(id, patch, by);
  }

  deactivate(id: string, by: string): Result<UpsertOutcome> {
    return this.update(id, { active: false }, by);
  }

  /**
   * Applies an `offers.rules` message. With a message id (its Kafka position),
   * at most once: a redelivered message changes nothing and returns the offer
   * as it is now. `create` false (a DELETE) never makes a new offer.
   */
  applyRule(messageId: string | null, id: string, patch: OfferPatch, by: string, create: boolean): Result<UpsertOutcome> {
    const current = this.all().get(id);
    if (!current && !create) return fail(404, "NOT_FOUND", `no offer ${id}`);
    const seen = messageId !== null && this.sql.exec("SELECT 1 FROM applied_rules WHERE message_id = ?", messageId).toArray().length > 0;
    if (seen && current) return ok({ offer: publicOffer(current), changed: false });
    const missing = !current && ["name", "min_stake_cents", "bonus_pct"].find((f) => patch[f as keyof OfferPatch] === undefined);
    if (missing) return fail(400, "INVALID_REQUEST", `${missing}: required for a new offer`);
    return this.mutate((now) => {
      const result = this.upsert(id, patch, by);
      if (result.ok && messageId !== null) {
        this.sql.exec("INSERT OR IGNORE INTO applied_rules (message_id, offer_id, applied_at) VALUES (?, ?, ?)", messageId, id, now);
      }
      return result;
    });
  }

  private upsert(id: string, patch: OfferPatch, by: string): Result<UpsertOutcome> {
    const before = this.all().get(id);
    if (before) {
      const next = applyPatch(before, patch);
      // A write that changes nothing is not a change: no version, no event.
      if (next.ok && Object.keys(changesBetween(before, next.terms)).length === 0) {
        return ok({ offer: publicOffer(before), changed: false });
      }
    }
    const written = this.write(id, patch, by, before ? "update" : "create");
    return written.ok ? ok({ offer: written.value, changed: true }) : written;
  }

  private write(id: string, patch: OfferPatch, by: string, kind: "create" | "update"): Result<Offer> {
    const offers = this.all();
    const before = offers.get(id);
    const next = applyPatch(before, patch);
    if (!next.ok) return fail(400, "INVALID_REQUEST", next.message);
    const changes = changesBetween(before, next.terms);
    const seq = before?.seq ?? (Math.max(0, ...[...offers.values()].map((o) => o.seq)) + 1);
    const catalogueVersion = this.catalogueVersion + 1;
    const stored = this.mutate((now) => {
      const offer: StoredOffer = {
        ...next.terms,
        id,
        seq,
        version: (before?.version ?? 0) + 1,
        created_at: before?.created_at ?? now,
        updated_at: now,
      };
      const terms = JSON.stringify(next.terms);
      this.sql.exec(
        `INSERT INTO offers (id, seq, version, terms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, terms = excluded.terms, updated_at = excluded.updated_at`,
        id,
        seq,
        offer.version,
        terms,
        offer.created_at,
        now,
      );
      this.sql.exec(
        "INSERT INTO offer_versions (offer_id, version, catalogue_version, terms, changes, made_by, made_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        id,
        offer.version,
        catalogueVersion,
        terms,
        JSON.stringify(changes),
        by,
        now,
      );
      const view = publicOffer(offer);
      this.emit("offer.upserted", { ...view, offer_id: id, kind, made_by: by, catalogue_version: catalogueVersion, changes });
      return offer;
    });
    // Memory follows storage only after the commit (a nested mutation may still roll back: see rollback()).
    offers.set(id, stored);
    this.catalogueVersion = catalogueVersion;
    return ok(publicOffer(stored));
  }

  protected override rollback(): void {
    this.cache = undefined; // re-read from storage
  }

  get(id: string): Result<Offer> {
    const offer = this.all().get(id);
    return offer ? ok(publicOffer(offer)) : fail(404, "NOT_FOUND", `no offer ${id}`);
  }

  /** Offers oldest first; `cursor` is the `seq` to continue after. */
  list(limit: number, cursor = 0, activeOnly = false): { offers: Offer[]; next_cursor?: string } {
    const rows = [...this.all().values()].filter((o) => o.seq > cursor && (!activeOnly || o.active));
    const page = rows.slice(0, limit);
    const out: { offers: Offer[]; next_cursor?: string } = { offers: page.map(publicOffer) };
    if (rows.length > limit) out.next_cursor = String(page.at(-1)!.seq);
    return out;
  }

  /** Every version of an offer, oldest first. */
  versions(id: string, limit: number, cursor = 0): Result<{ versions: OfferVersion[]; next_cursor?: string }> {
    const offer = this.all().get(id);
    if (!offer) return fail(404, "NOT_FOUND", `no offer ${id}`);
    const rows = this.sql
      .exec<{ version: number; terms: string; changes: string; made_by: string; made_at: string }>(
        "SELECT version, terms, changes, made_by, made_at FROM offer_versions WHERE offer_id = ? AND version > ? ORDER BY version LIMIT ?",
        id,
        cursor,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    const versions = page.map((r) => ({
      version: r.version,
      made_by: r.made_by,
      made_at: r.made_at,
      changes: JSON.parse(r.changes),
      offer: publicOffer({
        ...(JSON.parse(r.terms) as OfferTerms),
        id,
        seq: offer.seq,
        version: r.version,
        created_at: offer.created_at,
        updated_at: r.made_at,
      }),
    }));
    return ok(rows.length > limit ? { versions, next_cursor: String(page.at(-1)!.version) } : { versions });
  }

  /**
   * The active offers in their stored units, for the wallets' cache. When the
   * caller already holds catalogue version `since`, the reply is just that
   * version, so a poll of an unchanged catalogue costs almost nothing.
   */
  snapshot(since?: number): OfferSnapshot {
    const offers = this.all();
    if (since === this.catalogueVersion) return { version: this.catalogueVersion, unchanged: true };
    return { version: this.catalogueVersion, offers: [...offers.values()].filter((o) => o.active) };
  }
}
