/** IPv4 helpers for Kube-OVN subnet rules; addresses as 32-bit unsigned numbers. */

/** `192.168.50.1` → number, or undefined when not a dotted IPv4 address. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.trim().split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export interface Range {
  first: number;
  last: number;
}

/** `10.0.0.0/24` → the range of addresses it holds. */
export function parseCidr(text: string): Range | undefined {
  const [ip, bits] = text.trim().split("/");
  const base = ip === undefined ? undefined : parseIPv4(ip);
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const first = Math.floor(base / size) * size;
  return { first, last: first + size - 1 };
}

/** Kube-OVN `excludeIps` entry: `a.b.c.d` or `a.b.c.d..a.b.c.e`. */
export function parseIpRange(text: string): Range | undefined {
  const [from, to] = text.split("..");
  const first = from === undefined ? undefined : parseIPv4(from);
  const last = to === undefined ? first : parseIPv4(to);
  if (first === undefined || last === undefined || last < first) return undefined;
  return { first, last };
}

/** Whether every address of `inner` is inside one of `ranges` (ranges may touch or overlap). */
export function covered(inner: Range, ranges: readonly Range[]): boolean {
  let next = inner.first;
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  for (const r of sorted) {
    if (r.first > next) break;
    if (r.last >= next) next = r.last + 1;
    if (next > inner.last) return true;
  }
  return next > inner.last;
}

/** Number → dotted IPv4. */
export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}
