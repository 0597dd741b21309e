/**
 * Talos' RBAC for the fake node, as apid/machined enforce it with RBAC on (every cluster since 0.11):
 * the roles are the Organization fields of the client certificate (`os:admin`, `os:operator`,
 * `os:reader`, `os:etcd:backup`), and each method allows a fixed set of roles. Facts from Talos
 * 1.11.5 `internal/app/machined/pkg/system/services/machined.go` (the rules map) and
 * `pkg/grpc/middleware/authz/authorizer.go` (a refusal is PermissionDenied "not authorized").
 */
import type { PeerCertificate } from "node:tls";

export type TalosRole = "os:admin" | "os:operator" | "os:reader" | "os:etcd:backup";

const ADMIN: readonly TalosRole[] = ["os:admin"];
const OPERATOR: readonly TalosRole[] = ["os:admin", "os:operator"];
const READER: readonly TalosRole[] = ["os:admin", "os:operator", "os:reader"];
const ETCD_READ: readonly TalosRole[] = ["os:admin", "os:operator", "os:reader", "os:etcd:backup"];

/** Roles allowed per method path (the methods the fake serves). */
export const METHOD_ROLES: Readonly<Record<string, readonly TalosRole[]>> = {
  "/machine.MachineService/ApplyConfiguration": ADMIN,
  "/machine.MachineService/Bootstrap": ADMIN,
  "/machine.MachineService/EtcdLeaveCluster": ADMIN,
  "/machine.MachineService/EtcdMemberList": ETCD_READ,
  "/machine.MachineService/EtcdRemoveMemberByID": ADMIN,
  "/machine.MachineService/EtcdStatus": ETCD_READ,
  "/machine.MachineService/Events": READER,
  "/machine.MachineService/Kubeconfig": ADMIN,
  "/machine.MachineService/Read": ADMIN,
  "/machine.MachineService/Reboot": OPERATOR,
  "/machine.MachineService/Reset": ADMIN,
  "/machine.MachineService/ServiceList": READER,
  "/machine.MachineService/Upgrade": ADMIN,
  "/machine.MachineService/Version": READER,
  "/storage.StorageService/Disks": READER,
};

/** The Talos roles a client certificate carries (its Organization fields). */
export function rolesOf(cert: PeerCertificate | undefined): TalosRole[] {
  const o = cert?.subject?.O;
  const orgs = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return orgs.filter((x): x is TalosRole =>
    ["os:admin", "os:operator", "os:reader", "os:etcd:backup"].includes(x),
  );
}

/** Whether `roles` may call `path`; unknown methods are denied, as the authorizer does. */
export function authorized(path: string, roles: readonly TalosRole[]): boolean {
  const allowed = METHOD_ROLES[path];
  return allowed !== undefined && roles.some((r) => allowed.includes(r));
}
