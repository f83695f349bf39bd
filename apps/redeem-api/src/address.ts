// End-user addresses as the throttle and the attempt log see them (issue 12): one spelling per
// address, so that `::ffff:203.0.113.7`, `::FFFF:cb00:7107` and `203.0.113.7` are one subject, and an
// IPv6 subject is its /64 prefix (one host gets a whole /64 and can rotate within it at will).
import { isIPv4, isIPv6 } from "node:net";

export type EndUserAddress = {
  /** What the attempt log records: IPv4 dotted (mapped forms unwrapped), or IPv6 in RFC 5952 form. */
  address: string;
  /** What the throttle counts against: the IPv4 address, or the IPv6 /64 prefix, e.g. 2001:db8:1:2::/64. */
  subject: string;
};

/** The canonical forms of an IPv4 or IPv6 address; null when it is neither (the caller answers 400). */
export function canonicalAddress(raw: string): EndUserAddress | null {
  if (isIPv4(raw)) return { address: raw, subject: raw };
  if (!isIPv6(raw) || raw.includes("%")) return null;
  const groups = ipv6Groups(raw);
  if (!groups) return null;
  // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    const v4 = `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    return { address: v4, subject: v4 };
  }
  return { address: compress(groups), subject: `${compress([...groups.slice(0, 4), 0, 0, 0, 0])}/64` };
}

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 part is two groups). */
function ipv6Groups(raw: string): number[] | null {
  let text = raw.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split(".").map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const part = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  const fill = 8 - h.length - t.length;
  if (tail === undefined ? fill !== 0 : fill < 1) return null;
  const groups = [...h, ...new Array<number>(tail === undefined ? 0 : fill).fill(0), ...t];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function compress(groups: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}
