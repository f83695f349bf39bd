import { operationsSuite } from "./operations.ts";
import { describePostgres, embeddedEngine, postgresEngine } from "./support.ts";
import { throttleStoreSuite } from "./throttle-store.ts";

operationsSuite(embeddedEngine);
throttleStoreSuite(embeddedEngine);
describePostgres("postgres engine: operations", () => {
  operationsSuite(postgresEngine);
  throttleStoreSuite(postgresEngine);
});
