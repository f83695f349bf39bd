import { conformanceSuite } from "./conformance.ts";
import { describePostgres, postgresEngine } from "./support.ts";

describePostgres("postgres engine", () => {
  conformanceSuite(postgresEngine);
});
