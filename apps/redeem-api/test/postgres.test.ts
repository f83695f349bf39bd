// The redeem API's HTTP scenarios on PostgreSQL (a fresh database per run; skipped visibly without TEST_POSTGRES_URL).
import { describePostgres, postgresEngine } from "../../../packages/db/test/support.ts";
import { apiScenarios } from "./scenarios.ts";

describePostgres("redeem API over HTTP on PostgreSQL", () => {
  apiScenarios(postgresEngine);
});
