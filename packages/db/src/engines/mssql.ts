// The mssql engine (SQL Server / Azure SQL): placeholder until the SQL Server issue lands.
import { type CouponStore, StoreError } from "../contract.ts";
import type { StoreConfig } from "../config.ts";
import type { MigrationReport } from "../migrate.ts";

type MssqlConfig = Extract<StoreConfig, { engine: "mssql" }>;

export async function openMssqlStore(_c: MssqlConfig, _o: { poolSize?: number; applicationName?: string }): Promise<CouponStore> {
  throw new StoreError("CONFIG", "the mssql engine is not built yet");
}

export async function migrateMssql(_c: MssqlConfig): Promise<MigrationReport> {
  throw new StoreError("CONFIG", "the mssql engine is not built yet");
}
