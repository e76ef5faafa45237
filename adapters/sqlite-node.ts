// db_sqlite on Node: better-sqlite3 (version 12: it builds and runs on Node 20,
// which has no SQLite of its own; 13 needs Node 22). An optional dependency: where
// it is not installed, a sqlite:// connection fails at start-up saying so, and
// nothing else changes. Loaded on the first sqlite:// connection only. Integers come
// as bigint (safeIntegers), so that the engine tells 2 from 2.0 as on the other runtimes.
import type { SqliteBinding, SqliteCell, SqliteDatabase } from "../src/modules/sql-drivers.ts";

interface BetterSqlite3Statement {
  readonly reader: boolean;
  columns(): { name: string }[];
  raw(on: boolean): this;
  safeIntegers(on: boolean): this;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
type BetterSqlite3 = new (path: string, options: { readonly: boolean; timeout: number }) => {
  prepare(sql: string): BetterSqlite3Statement;
  close(): void;
};

export async function sqliteBinding(): Promise<SqliteBinding> {
  let Database: BetterSqlite3;
  try {
    // a name the bundler leaves alone: the package is optional, and loaded only here
    const name = "better-sqlite3";
    Database = ((await import(name)) as { default: BetterSqlite3 }).default;
  } catch (e) {
    throw new Error(`db_sqlite on Node needs the better-sqlite3 package (npm install better-sqlite3@12): ${(e as Error).message.split("\n")[0]}`);
  }
  return {
    name: "better-sqlite3",
    open(path, { readonly }): SqliteDatabase {
      // timeout 0: SQLite's own default, as on Bun and Deno (db_set_busy_timeout sets one)
      const db = new Database(path, { readonly, timeout: 0 });
      return {
        run(sql, params) {
          const statement = db.prepare(sql);
          if (!statement.reader) return { columns: [], rows: [], changes: statement.run(...params).changes };
          const columns = statement.columns().map((c) => c.name);
          return { columns, rows: statement.raw(true).safeIntegers(true).all(...params) as SqliteCell[][], changes: 0 };
        },
        close: () => db.close(),
      };
    },
  };
}
