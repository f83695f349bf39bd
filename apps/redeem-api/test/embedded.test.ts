// The redeem API's HTTP scenarios on the embedded engine (PGlite in memory).
import { embeddedEngine } from "../../../packages/db/test/support.ts";
import { apiScenarios } from "./scenarios.ts";

describe("redeem API over HTTP on the embedded engine", () => {
  apiScenarios(embeddedEngine);
});
