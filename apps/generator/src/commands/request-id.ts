// A generation request named by its id or by any unique prefix of at least 8 characters (request ids
// are UUIDs by default: nobody types 36 characters). An exact id wins; a prefix is looked up among the
// stored requests (listGenerationRequests, newest first, a page at a time); two or more matches are
// refused with the candidates listed.
import type { CouponStore, GenerationRequest } from "@coupons/db";
import { GeneratorError } from "../errors.ts";

export const MIN_ID_PREFIX = 8;
const PAGE = 1000;
/** Candidates named in the refusal of an ambiguous prefix. */
const SHOWN = 10;

/** The request `idOrPrefix` names: exact id first, then a unique prefix; NOT_FOUND / INVALID_ARGUMENT otherwise. */
export async function findRequest(store: CouponStore, idOrPrefix: string): Promise<GenerationRequest> {
  const exact = await store.getGenerationRequest(idOrPrefix);
  if (exact) return exact;
  if (idOrPrefix.length < MIN_ID_PREFIX) {
    throw new GeneratorError(
      "NOT_FOUND",
      `generation request ${idOrPrefix} does not exist (a prefix of an id must have at least ${MIN_ID_PREFIX} characters)`,
    );
  }
  const matches: GenerationRequest[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listGenerationRequests({ limit: PAGE, after });
    for (const r of page) if (r.requestId.startsWith(idOrPrefix)) matches.push(r);
    if (page.length < PAGE) break;
    after = page.at(-1)?.requestId;
  }
  const [only, ...others] = matches;
  if (!only) throw new GeneratorError("NOT_FOUND", `generation request ${idOrPrefix} does not exist (no id starts with it either)`);
  if (others.length > 0) {
    const listed = matches
      .slice(0, SHOWN)
      .map((r) => `  ${r.requestId}  ${r.campaignId}  ${r.status}`)
      .join("\n");
    const more = matches.length > SHOWN ? `\n  ... and ${matches.length - SHOWN} more` : "";
    throw new GeneratorError(
      "INVALID_ARGUMENT",
      `${matches.length} generation requests start with ${idOrPrefix}; give more characters:\n${listed}${more}`,
    );
  }
  return only;
}

/** The full id `idOrPrefix` names (see findRequest). */
export async function resolveRequestId(store: CouponStore, idOrPrefix: string): Promise<string> {
  return (await findRequest(store, idOrPrefix)).requestId;
}
