// Which calling service made a call, as recorded on each redemption attempt and reversal (ClientId):
// only that service may reverse the redemption. The caller's principal (auth.ts): `apikey:<key id>`
// for an API key, `entra:<app id>` for an Entra ID token; key ids cannot contain ":", so the two
// never collide.
import type { Response } from "express";
import { callerOf } from "./auth.ts";

/** The caller's client id, as stored in RedemptionHistory.ClientId and RedemptionReversals.ReversedBy. */
export function clientIdOf(res: Response): string {
  return callerOf(res).principal;
}
