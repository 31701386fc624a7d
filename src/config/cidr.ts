/** Small IPv4 CIDR arithmetic, so subnet CIDRs are literal values a reviewer can read in the plan. */

export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 32 - prefix;
  // The address must be the network address (no host bits set), as AWS requires for a VPC.
  if (base % 2 ** hostBits !== 0) return undefined;
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((s) => Math.floor(c.base / 2 ** s) % 256);
  return `${o.join(".")}/${c.prefix}`;
}

/** The `index`-th block of `newBits` extra prefix bits inside `parent` (Terraform's cidrsubnet). */
export function cidrSubnet(parent: Cidr, newBits: number, index: number): Cidr {
  const prefix = parent.prefix + newBits;
  if (prefix > 32 || index < 0 || index >= 2 ** newBits) {
    throw new Error(`cidrSubnet: no block ${index} of /${prefix} in ${formatCidr(parent)}`);
  }
  return { base: parent.base + index * 2 ** (32 - prefix), prefix };
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((r) => parseCidr(r)!);

/** True when `c` lies inside one of the RFC 1918 private ranges. */
export function isPrivate(c: Cidr): boolean {
  return PRIVATE_RANGES.some((r) => c.prefix >= r.prefix && Math.floor(c.base / 2 ** (32 - r.prefix)) === Math.floor(r.base / 2 ** (32 - r.prefix)));
}

/**
 * Subnet layout: the VPC is cut into 16 equal blocks; tier t (public 0, private 1, database 2) of the
 * AZ with index i takes block 4t + i. So a /16 gives /20 subnets (4,091 usable addresses each) and
 * the smallest VPC that still leaves room for Fargate tasks is a /20 (/24 subnets).
 */
export const SUBNET_NEW_BITS = 4;
export const SUBNET_TIERS = ["public", "private", "database"] as const;
export type SubnetTier = (typeof SUBNET_TIERS)[number];
export const LARGEST_VPC_PREFIX = 16; // AWS's own limit
export const SMALLEST_VPC_PREFIX = 20;

export function subnetCidr(vpcCidr: string, tier: SubnetTier, azIndex: number): string {
  const parent = parseCidr(vpcCidr);
  if (!parent) throw new Error(`subnetCidr: ${vpcCidr} is not an IPv4 CIDR`);
  return formatCidr(cidrSubnet(parent, SUBNET_NEW_BITS, SUBNET_TIERS.indexOf(tier) * 4 + azIndex));
}
