// The brute-force throttle under concurrency, through the real HTTP API on PostgreSQL (issue 12):
// bursts of simultaneous refused attempts by one user and from one end-user address. What reached
// the store is read from RedemptionHistory directly (the check must not trust the code under test);
// the figures are printed at the end of the fault suite.
import { expect } from "chai";
import { KEYS, unique } from "../../apps/redeem-api/test/helpers.ts";
import { describePostgres } from "../../packages/db/test/support.ts";
import { type ApiHarness, figures, startApi, withPg } from "./support.ts";

const BURST = 100;
const USER_ALLOWANCE = 5;
const IP_ALLOWANCE = 10;

describePostgres("faults: the throttle holds under concurrency, through HTTP on PostgreSQL", function () {
  this.timeout(90_000);
  let h: ApiHarness;

  before(async () => {
    h = await startApi({
      COUPONS_THROTTLE_USER_FAILURES: String(USER_ALLOWANCE),
      COUPONS_THROTTLE_IP_FAILURES: String(IP_ALLOWANCE),
      COUPONS_THROTTLE_WINDOW_SECONDS: "600",
    });
  });
  after(async () => {
    await h?.close();
  });

  async function burst(body: (i: number) => Record<string, string>): Promise<number[]> {
    const rs = await Promise.all(Array.from({ length: BURST }, (_, i) => h.api.post("/v1/redemptions", body(i), KEYS.shop)));
    for (const r of rs) if (r.status >= 500) figures.serverErrors++;
    return rs.map((r) => r.status);
  }

  const historyRows = (where: string, value: string) =>
    withPg(
      h.db.url,
      async (c) => (await c.query(`SELECT count(*)::int AS n FROM RedemptionHistory WHERE ${where} = $1`, [value])).rows[0].n as number,
    );

  it(`When one user sends ${BURST} refused redemptions at once, then at most ${USER_ALLOWANCE} reach the database`, async () => {
    const user = unique("fault-user");
    const statuses = await burst((i) => ({ code: unique("guess"), userId: user, ipAddress: `198.18.${i}.7` }));
    const reached = await historyRows("UserId", user);
    figures.throttle.push({ subject: "one user", attempts: BURST, reached, allowance: USER_ALLOWANCE });
    expect(reached).to.be.at.most(USER_ALLOWANCE);
    expect(statuses.filter((s) => s === 429)).to.have.length(BURST - reached);
    expect(statuses.filter((s) => s === 404)).to.have.length(reached);
  });

  it(`When ${BURST} refused redemptions by different users come from one address at once, then at most ${IP_ALLOWANCE} reach the database`, async () => {
    const ip = "203.0.113.250";
    const statuses = await burst(() => ({ code: unique("guess"), userId: unique("u"), ipAddress: ip }));
    const reached = await historyRows("IpAddress", ip);
    figures.throttle.push({ subject: "one address", attempts: BURST, reached, allowance: IP_ALLOWANCE });
    expect(reached).to.be.at.most(IP_ALLOWANCE);
    expect(statuses.filter((s) => s === 429)).to.have.length(BURST - reached);
  });
});
