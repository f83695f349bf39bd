import { operationsSuite } from "./operations.ts";
import { describePostgres, embeddedEngine, postgresEngine } from "./support.ts";

operationsSuite(embeddedEngine);
describePostgres("postgres engine: operations", () => {
  operationsSuite(postgresEngine);
});
