/**
 * A subnet is written by its network address. `10.0.0.7/24` is a node's address typed where the
 * network was meant; Talos 1.14 refuses `10.244.5.0/16` as a pod or service subnet ("is not a
 * valid CIDR"); MetalLB reads the pool "10.0.0.201/28" as 10.0.0.192/28, below the one written.
 * Pure (net/ipv4 only): the schema, the cross-field rules and so the policy pack share it.
 */
import { formatIpv4, type Ipv4Cidr } from "../net/ipv4";

/** What is wrong with a CIDR written with host bits set, and its fix; undefined when it has none. */
export function hostBitsProblem(cidr: Ipv4Cidr): { what: string; fix: string } | undefined {
  if (cidr.address === cidr.network) return undefined;
  return {
    what: `has host bits set: it covers ${formatIpv4(cidr.first)}-${formatIpv4(cidr.last)}`,
    fix: `write the network address ${formatIpv4(cidr.network)}/${cidr.prefix}`,
  };
}
