// The operator's conversion of dbo.Coupons to the partitioned layout (database/mssql/partitioning):
// the scripts in order, batch by batch, on one connection, with the table's rows counted and
// fingerprinted before and after. The scripts rebuild indexes in place, so no row is copied; the
// check proves it and refuses to report success otherwise. Re-runnable: a converted table is left
// as it is.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import sql from "mssql";
import { StoreError } from "../contract.ts";
import { databaseDir } from "../migrate.ts";
import { buildMssqlSettings, type MssqlStoreConfig } from "./mssql-config.ts";
import { mapMssqlError } from "./mssql-errors.ts";
import { splitBatches } from "./mssql-migrate.ts";

export type PartitionReport = { scripts: string[]; rowsBefore: number; rowsAfter: number; partitions: number };

const FINGERPRINT = `SELECT COUNT_BIG(*) AS n, CHECKSUM_AGG(CHECKSUM(CouponId, CouponCode, CampaignId)) AS h FROM dbo.Coupons WITH (TABLOCK)`;

export function partitionScripts(): { file: string; sql: string }[] {
  const dir = join(databaseDir("mssql"), "partitioning");
  return readdirSync(dir)
    .filter((f) => /^\d\d_.*\.sql$/.test(f))
    .sort()
    .map((file) => ({ file, sql: readFileSync(join(dir, file), "utf8").replace(/\r\n/g, "\n") }));
}

export async function partitionMssqlCoupons(c: MssqlStoreConfig): Promise<PartitionReport> {
  const settings = buildMssqlSettings(c, { poolSize: 1, applicationName: "coupons-partition" });
  const pool = new sql.ConnectionPool({ ...settings.config, requestTimeout: 3_600_000, pool: { max: 1, min: 1 } });
  pool.on("error", () => {});
  try {
    await pool.connect();
    const before = (await pool.request().query<{ n: string | number; h: number | null }>(FINGERPRINT)).recordset[0];
    const scripts = partitionScripts();
    for (const s of scripts) {
      for (const batch of splitBatches(s.sql)) {
        try {
          await pool.request().batch(batch.sql);
        } catch (err) {
          throw new StoreError(
            "MIGRATION",
            `partitioning script ${s.file} failed in the batch at line ${batch.line}: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        }
      }
    }
    const after = (await pool.request().query<{ n: string | number; h: number | null }>(FINGERPRINT)).recordset[0];
    if (Number(before?.n) !== Number(after?.n) || before?.h !== after?.h) {
      throw new StoreError(
        "MIGRATION",
        `dbo.Coupons changed while it was partitioned (${before?.n} rows, fingerprint ${before?.h} before; ${after?.n}, ${after?.h} after); stop writers and compare`,
      );
    }
    const parts = (
      await pool
        .request()
        .query<{ n: number }>("SELECT COUNT(*) AS n FROM sys.partitions WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND index_id = 1")
    ).recordset[0];
    return {
      scripts: scripts.map((s) => s.file),
      rowsBefore: Number(before?.n),
      rowsAfter: Number(after?.n),
      partitions: Number(parts?.n ?? 0),
    };
  } catch (err) {
    throw mapMssqlError(err);
  } finally {
    await pool.close().catch(() => {});
  }
}
