/**
 * Helm values for kube-prometheus-stack on Talos, and the machine-config patch Talos needs for it.
 *
 * Talos runs kube-controller-manager, kube-scheduler and etcd as static pods on the control planes,
 * bound to localhost by default, and there is no kube-proxy with Cilium. The patch binds the two
 * components to all addresses and opens etcd's plain metrics listener (`listen-metrics-urls`,
 * Talos docs "Deploying Metrics Server"/kube-prometheus-stack notes); the values point the chart's
 * Services at the control-plane IPs (`endpoints`), scrape the components over their self-signed
 * HTTPS ports and etcd over HTTP.
 */
import { stringify } from "yaml";
import { ETCD_METRICS_PORT } from "../../talos/constants";
import { talosMinorFacts } from "../../talos-minors";
import { parseVersion } from "../../version";
import { type HelmValues, helmMerge } from "./merge";

/** Secret (in the monitoring namespace) with the SMTP password, mounted into Alertmanager. */
export const ALERTMANAGER_SMTP_SECRET = "alertmanager-smtp";
export const ALERTMANAGER_SMTP_KEY = "password";
/** Secret (in the monitoring namespace) with Grafana's admin login (keys admin-user, admin-password). */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

/**
 * Control-plane config patch (strategic merge) the monitoring addon adds before the stack's own
 * patches, in the layout of `talosVersion`'s minor: where the Kubernetes components have documents
 * of their own (1.14+ `KubeControllerManagerConfig`/`KubeSchedulerConfig`, which Talos refuses to
 * combine with `cluster.controllerManager`/`cluster.scheduler`), their bind address goes there; etcd
 * stays in the v1alpha1 document in every minor.
 */
export function monitoringControlPlanePatch(talosVersion: string): string | Record<string, unknown> {
  const bind = { extraArgs: { "bind-address": "0.0.0.0" } };
  const etcd = { extraArgs: { "listen-metrics-urls": `http://0.0.0.0:${ETCD_METRICS_PORT}` } };
  const row = talosMinorFacts(parseVersion(talosVersion)?.minorKey ?? "");
  if (!row?.config.multiDocKubernetes) return { cluster: { controllerManager: bind, scheduler: bind, etcd } };
  return [
    { cluster: { etcd } },
    { apiVersion: "v1alpha1", kind: "KubeControllerManagerConfig", ...bind },
    { apiVersion: "v1alpha1", kind: "KubeSchedulerConfig", ...bind },
  ]
    .map((doc) => stringify(doc))
    .join("---\n");
}

export interface MonitoringOptions {
  readonly controlPlaneIps: readonly string[];
  /** kube-proxy runs (flannel); with Cilium's replacement its scrape target does not exist. */
  readonly kubeProxy: boolean;
  readonly storage: { readonly storageClassName?: string; readonly size: string; readonly retention: string };
  readonly grafanaService: {
    readonly type: "LoadBalancer" | "ClusterIP";
    readonly port: number;
    readonly annotations: Record<string, string>;
  };
  readonly smtp?: {
    readonly smarthost: string;
    readonly from: string;
    readonly to: readonly string[];
    readonly username?: string;
  };
}

const volumeClaim = (storageClassName: string | undefined, size: string) => ({
  volumeClaimTemplate: {
    spec: {
      ...(storageClassName ? { storageClassName } : {}),
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
    },
  },
});

/** Alertmanager's config: every alert but the Watchdog heartbeat goes to the e-mail receiver. */
export function alertmanagerConfig(smtp: NonNullable<MonitoringOptions["smtp"]>): HelmValues {
  return {
    global: {
      resolve_timeout: "5m",
      smtp_smarthost: smtp.smarthost,
      smtp_from: smtp.from,
      smtp_require_tls: true,
      ...(smtp.username
        ? {
            smtp_auth_username: smtp.username,
            // Read from the mounted Secret: the password never enters the Helm values.
            smtp_auth_password_file: `/etc/alertmanager/secrets/${ALERTMANAGER_SMTP_SECRET}/${ALERTMANAGER_SMTP_KEY}`,
          }
        : {}),
    },
    route: {
      group_by: ["namespace", "alertname"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "12h",
      receiver: "email",
      routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
    },
    receivers: [
      { name: "null" },
      { name: "email", email_configs: smtp.to.map((to) => ({ to, send_resolved: true })) },
    ],
    templates: ["/etc/alertmanager/config/*.tmpl"],
  };
}

export function monitoringBaseValues(o: MonitoringOptions): HelmValues {
  const endpoints = [...o.controlPlaneIps];
  const componentMonitor = { https: true, insecureSkipVerify: true };
  return {
    kubeControllerManager: { endpoints, serviceMonitor: componentMonitor },
    kubeScheduler: { endpoints, serviceMonitor: componentMonitor },
    kubeEtcd: {
      endpoints,
      service: { port: ETCD_METRICS_PORT, targetPort: ETCD_METRICS_PORT },
    },
    kubeProxy: { enabled: o.kubeProxy },
    prometheus: {
      prometheusSpec: {
        retention: o.storage.retention,
        storageSpec: volumeClaim(o.storage.storageClassName, o.storage.size),
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        storage: volumeClaim(o.storage.storageClassName, "2Gi"),
        ...(o.smtp?.username ? { secrets: [ALERTMANAGER_SMTP_SECRET] } : {}),
      },
      ...(o.smtp ? { config: alertmanagerConfig(o.smtp) } : {}),
    },
    grafana: {
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      service: {
        type: o.grafanaService.type,
        port: o.grafanaService.port,
        annotations: { ...o.grafanaService.annotations },
      },
    },
  };
}

/** kube-prometheus-stack values with the user's `addons.monitoring.values` merged last. */
export function monitoringValues(o: MonitoringOptions, user?: HelmValues): HelmValues {
  return helmMerge(monitoringBaseValues(o), user);
}
