import { conformanceSuite } from "./conformance.ts";
import { embeddedEngine } from "./support.ts";

conformanceSuite(embeddedEngine);
