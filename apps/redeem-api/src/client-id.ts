// Which calling service made a call, as recorded on each redemption attempt and reversal (ClientId):
// only that service may reverse the redemption. One function, so another way of authenticating (Entra
// ID: the token's app id) changes it here and nowhere else.
import type { Response } from "express";
import { callerOf } from "./auth.ts";

/** The caller's client id: `apikey:<key id>` for an API key. */
export function clientIdOf(res: Response): string {
  return `apikey:${callerOf(res).keyId}`;
}
