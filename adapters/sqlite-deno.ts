// db_sqlite on Deno: node:sqlite, Deno's own SQLite. Loaded on the first sqlite://
// connection only (every node: module costs Deno RSS at start-up). Integers come as
// bigint (setReadBigInts), so that the engine tells 2 from 2.0 as on the other runtimes.
import type { SqliteBinding, SqliteCell, SqliteDatabase } from "../src/modules/sql-drivers.ts";

/** The part of node:sqlite used (the @types/node this project checks against is Node 20's, without it). */
interface StatementSync {
  setReadBigInts(on: boolean): void;
  setReturnArrays(on: boolean): void;
  columns(): { name: string }[];
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number | bigint };
}
type DatabaseSync = new (path: string, options: { readOnly: boolean }) => { prepare(sql: string): StatementSync; close(): void };

export async function sqliteBinding(): Promise<SqliteBinding> {
  const name = "node:sqlite";
  const { DatabaseSync } = (await import(name)) as { DatabaseSync: DatabaseSync };
  return {
    name: "node:sqlite",
    open(path, { readonly }): SqliteDatabase {
      const db = new DatabaseSync(path, { readOnly: readonly });
      return {
        run(sql, params) {
          const statement = db.prepare(sql);
          statement.setReadBigInts(true);
          const columns = statement.columns().map((c) => c.name);
          if (columns.length === 0) return { columns, rows: [], changes: Number(statement.run(...params).changes) };
          statement.setReturnArrays(true);
          return { columns, rows: statement.all(...params) as SqliteCell[][], changes: 0 };
        },
        close: () => db.close(),
      };
    },
  };
}
