/**
 * The alerts for the day-2 risks this project knows about, as one PrometheusRule: an etcd member
 * down (quorum at risk: rollouts refuse to proceed), a node NotReady for 10 minutes (a rollout
 * gate would time out on it), and client certificates expiring within the renewal window the
 * program uses for its admin certs (`clientCerts.renewBeforeDays`): the API server's view of the
 * client certs presented to it, and the kubelets' own client certs.
 */

export const PLATFORM_RULE_NAME = "proxmox-talos-day2";

export interface PromRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "critical" | "warning" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export function day2Rules(renewBeforeDays: number): PromRule[] {
  const window = renewBeforeDays * 86_400;
  return [
    {
      alert: "EtcdMemberDown",
      expr: 'up{job=~".*etcd.*"} == 0',
      for: "3m",
      labels: { severity: "critical" },
      annotations: {
        summary: "etcd member {{ $labels.instance }} is down",
        description:
          "Prometheus cannot scrape etcd on {{ $labels.instance }}. With a member down the cluster has no quorum to spare: control-plane rollouts refuse to start until it is back.",
      },
    },
    {
      alert: "NodeNotReadyTenMinutes",
      expr: 'kube_node_status_condition{condition="Ready",status="true"} == 0',
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "node {{ $labels.node }} has been NotReady for 10 minutes",
        description: "Node {{ $labels.node }} reports NotReady. Rollouts gate on Ready nodes and stop at it.",
      },
    },
    {
      alert: "ClientCertificateExpiringWithinRenewalWindow",
      expr: `apiserver_client_certificate_expiration_seconds_count{job="apiserver"} > 0 and on (job) histogram_quantile(0.01, sum by (job, le) (rate(apiserver_client_certificate_expiration_seconds_bucket{job="apiserver"}[5m]))) < ${window}`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: `a client certificate used against the API server expires within ${renewBeforeDays} days`,
        description: `Clients present certificates expiring within the ${renewBeforeDays}-day renewal window: run pulumi up to renew the admin kubeconfig/talosconfig, and renew any other client's certificate.`,
      },
    },
    {
      alert: "KubeletClientCertificateExpiringWithinRenewalWindow",
      expr: `kubelet_certificate_manager_client_ttl_seconds < ${window}`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: `the kubelet client certificate of {{ $labels.node }} expires within ${renewBeforeDays} days`,
        description:
          "The kubelet should rotate it itself; if this stays, check the node's kubelet and its CSR approvals.",
      },
    },
  ];
}
