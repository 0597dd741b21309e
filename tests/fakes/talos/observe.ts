/**
 * What the fake Talos node answers to the observing calls talosctl makes beyond the project's own
 * proto (`talosctl etcd status`, `talosctl services`; `events` and `read` are in streams.ts), from Talos 1.11.5
 * internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go (EtcdStatus: control planes
 * only, the local member's status; ServiceList: the registered services and their state).
 */
import * as path from "node:path";
import type { PackageDefinition } from "@grpc/proto-loader";
import * as protoLoader from "@grpc/proto-loader";
import { LOADER_OPTIONS, PROTO_DIR } from "../../../components/talos/api/proto";

let cached: PackageDefinition | undefined;

/** observe.proto, loaded with the project's proto folder as include root (common.Metadata). */
export function loadObserveDefinition(): PackageDefinition {
  cached ??= protoLoader.loadSync(path.join(__dirname, "observe.proto"), {
    ...LOADER_OPTIONS,
    includeDirs: [PROTO_DIR, __dirname],
  });
  return cached;
}

/** Services machined runs on a node of that role (Talos 1.11: trustd and etcd on control planes). */
export function serviceStates(o: {
  controlPlane: boolean;
  etcdRunning: boolean;
}): { id: string; running: boolean }[] {
  const ids = ["apid", "containerd", "cri", "kubelet", "machined", "syslogd", "udevd"];
  if (o.controlPlane) ids.push("etcd", "trustd");
  return ids.sort().map((id) => ({ id, running: id !== "etcd" || o.etcdRunning }));
}

export function serviceList(o: { controlPlane: boolean; etcdRunning: boolean }): Record<string, unknown> {
  const now = { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 };
  return {
    services: serviceStates(o).map(({ id, running }) => {
      return {
        id,
        state: running ? "Running" : "Preparing",
        events: {
          events: [
            {
              msg: running ? "Health check successful" : "Running pre state",
              state: running ? "Running" : "Preparing",
              ts: now,
            },
          ],
        },
        health: { unknown: !running, healthy: running, last_message: "", last_change: now },
      };
    }),
  };
}

/** The local etcd member's status (protocol 3.6, as Talos 1.11 ships etcd 3.6). */
export function etcdStatus(o: {
  memberId: string;
  leaderId: string;
  members: number;
}): Record<string, unknown> {
  return {
    member_status: {
      storage_version: "3.6.0",
      member_id: o.memberId,
      protocol_version: "3.6.4",
      db_size: String(20 * 1024 * 1024),
      db_size_in_use: String(5 * 1024 * 1024),
      leader: o.leaderId,
      raft_index: String(1000 + o.members),
      raft_term: "2",
      raft_applied_index: String(1000 + o.members),
      errors: [],
      is_learner: false,
    },
  };
}
