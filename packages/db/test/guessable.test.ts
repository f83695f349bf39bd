// Codes easy to guess: a generation request whose existing plus requested codes fill more than one
// in a million of the code space is refused with the odds, unless the operator allows it explicitly;
// nothing is written when it is refused.
import { expect } from "chai";
import {
  type CouponStore,
  GenerationRequestError,
  MAX_GUESS_ODDS,
  checkGuessability,
  openStore,
  submitGenerationRequest,
} from "../src/index.ts";

describe("generation requests whose codes would be easy to guess", () => {
  let store: CouponStore;
  before(async () => {
    store = await openStore("embedded:memory");
    await store.createCampaign({
      campaignId: "guess",
      name: "guess",
      startDate: new Date(Date.now() - 86_400_000),
      endDate: new Date(Date.now() + 86_400_000),
      discountPercentage: 5,
      maxRedemptionsPerUser: null,
      maxTotalRedemptions: null,
      isActive: true,
    });
  });
  after(async () => {
    await store?.close();
  });

  const refused = async (input: Parameters<typeof submitGenerationRequest>[1]) => {
    try {
      await submitGenerationRequest(store, input);
    } catch (err) {
      expect(err).to.be.instanceOf(GenerationRequestError);
      return err as GenerationRequestError;
    }
    throw new Error("expected a refusal");
  };

  it("When the odds pass one in a million only by the last code, then the request is refused; one code fewer is accepted", async () => {
    // 31^5 = 28,629,151: 28 codes are one guess in 1,022,469, 29 are one in 987,212
    expect(checkGuessability({ amount: 28, existing: 0, prefix: "", length: 5 }).ok).to.equal(true);
    const err = await refused({ campaignId: "guess", requestedAmount: 29, prefix: "EDGE", codeLength: 5, requestId: "edge-29" });
    expect(err.field).to.equal("codeLength");
    expect(err.guessability?.odds).to.be.above(MAX_GUESS_ODDS);
    expect(err.message).to.contain("one random guess in 987,212 would hit a valid code").and.contain("Use a length of 6 or more");
    expect(await store.getGenerationRequest("edge-29")).to.equal(null);
    const ok = await submitGenerationRequest(store, { campaignId: "guess", requestedAmount: 28, prefix: "EDGE", codeLength: 5 });
    expect(ok.requestedAmount).to.equal(28);
  });

  it("When codes with the prefix exist already, then they count with the requested ones", async () => {
    const seed = await store.createGenerationRequest({ campaignId: "guess", requestedAmount: 20, prefix: "OLD", codeLength: 5 });
    const claim = await store.claimGenerationRequest(seed.requestId, "test");
    await store.bulkInsertCoupons(
      seed.requestId,
      Array.from({ length: 20 }, (_, i) => `OLD${String(i).padStart(2, "0")}ABC`),
    );
    await claim.release();
    const err = await refused({ campaignId: "guess", requestedAmount: 9, prefix: "OLD", codeLength: 5 });
    expect(err.message).to.contain("20 existing and 9 requested codes");
    expect(
      (await submitGenerationRequest(store, { campaignId: "guess", requestedAmount: 8, prefix: "OLD", codeLength: 5 })).requestedAmount,
    ).to.equal(8);
  });

  it("When the operator allows guessable codes explicitly, then the same request is accepted; a non-boolean allowance is refused", async () => {
    const r = await submitGenerationRequest(store, { campaignId: "guess", requestedAmount: 1000, codeLength: 4, allowGuessable: true });
    expect(r.codeLength).to.equal(4);
    const err = await refused({ campaignId: "guess", requestedAmount: 1000, codeLength: 4, allowGuessable: "yes" as unknown as boolean });
    expect(err.field).to.equal("allowGuessable");
  });
});
