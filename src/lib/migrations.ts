/**
 * Versioned schema migrations for an actor's SQLite storage. Each migration has a
 * stable id; the ids already applied are recorded in `_migrations`, because
 * `PRAGMA user_version` is not available in Durable Object SQLite.
 */
export type Migration = { id: string; sql: string };

export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[]): void {
  storage.transactionSync(() => {
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS _migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
    );
    const applied = new Set(
      storage.sql.exec<{ id: string }>("SELECT id FROM _migrations").toArray().map((r) => r.id),
    );
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      storage.sql.exec(m.sql);
      storage.sql.exec(
        "INSERT INTO _migrations (id, applied_at) VALUES (?, ?)",
        m.id,
        new Date().toISOString(),
      );
    }
  });
}
