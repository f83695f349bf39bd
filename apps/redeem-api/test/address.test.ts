// End-user addresses in canonical form (issue 12): one spelling per address, IPv6 throttled by /64.
import { expect } from "chai";
import { canonicalAddress } from "../src/address.ts";

describe("canonicalAddress", () => {
  it("unwraps IPv4-mapped IPv6 in dotted and in hex form to the IPv4 address", () => {
    for (const a of ["::ffff:203.0.113.9", "::FFFF:203.0.113.9", "::ffff:cb00:7109", "0:0:0:0:0:ffff:cb00:7109"]) {
      expect(canonicalAddress(a), a).to.deep.equal({ address: "203.0.113.9", subject: "203.0.113.9" });
    }
  });

  it("writes IPv6 in RFC 5952 form and makes its /64 prefix the subject", () => {
    expect(canonicalAddress("2001:0DB8:0001:0002:0003:0000:0000:0001")).to.deep.equal({
      address: "2001:db8:1:2:3::1",
      subject: "2001:db8:1:2::/64",
    });
    expect(canonicalAddress("2001:db8:0:0:1:0:0:1")?.address, "the first of two equal zero runs").to.equal("2001:db8::1:0:0:1");
    expect(canonicalAddress("2001:db8:1:2:ffff::3")?.subject).to.equal("2001:db8:1:2::/64");
    expect(canonicalAddress("::1")).to.deep.equal({ address: "::1", subject: "::/64" });
  });

  it("keeps IPv4 as it is and refuses what is not an address (zone ids included)", () => {
    expect(canonicalAddress("198.51.100.4")).to.deep.equal({ address: "198.51.100.4", subject: "198.51.100.4" });
    for (const a of ["fe80::1%eth0", "1.2.3.04", "not-an-ip", "1::2::3", ""]) expect(canonicalAddress(a), a).to.equal(null);
  });
});
