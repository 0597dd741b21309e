/**
 * Helm values for Headlamp. Its own ServiceAccount gets no ClusterRoleBinding (the chart binds it
 * to cluster-admin by default): in-cluster Headlamp acts with the token or OIDC identity each user
 * logs in with, so the pod itself needs no rights.
 */
import { HEADLAMP_FLUX_PLUGIN } from "../../versions";
import { type HelmValues, helmMerge } from "./merge";

/** Name of the Secret holding the OIDC settings (`OIDC_*` keys) when OIDC is configured. */
export const HEADLAMP_OIDC_SECRET = "headlamp-oidc";

export interface HeadlampOptions {
  /** `LoadBalancer` service with these annotations and port, or ClusterIP behind the Gateway. */
  readonly service: {
    readonly type: "LoadBalancer" | "ClusterIP";
    readonly port: number;
    readonly annotations: Record<string, string>;
  };
  /** The Flux plugin (Flux is on). */
  readonly fluxPlugin: boolean;
  /** OIDC through the external Secret HEADLAMP_OIDC_SECRET. */
  readonly oidc: boolean;
  /**
   * The OIDC callback URL (also `OIDC_CALLBACK_URL` in the Secret). The chart passes
   * `-oidc-callback-url=$(OIDC_CALLBACK_URL)` only when `config.oidc.callbackURL` is non-empty
   * (charts/headlamp/templates/deployment.yaml), so it is set here too; it is not secret.
   */
  readonly oidcCallbackUrl?: string;
}

/** The plugin manager's config file: plugins pinned to a version. */
export function headlampPluginConfig(): string {
  return [
    "plugins:",
    "  - name: flux",
    `    source: ${HEADLAMP_FLUX_PLUGIN.source}`,
    `    version: ${HEADLAMP_FLUX_PLUGIN.version}`,
    "",
  ].join("\n");
}

export function headlampBaseValues(o: HeadlampOptions): HelmValues {
  return {
    clusterRoleBinding: { create: false },
    service: { type: o.service.type, port: o.service.port, annotations: { ...o.service.annotations } },
    ...(o.fluxPlugin ? { pluginsManager: { enabled: true, configContent: headlampPluginConfig() } } : {}),
    ...(o.oidc
      ? {
          config: {
            oidc: {
              secret: { create: false },
              externalSecret: { enabled: true, name: HEADLAMP_OIDC_SECRET, hasScopes: true },
              ...(o.oidcCallbackUrl ? { callbackURL: o.oidcCallbackUrl } : {}),
            },
          },
        }
      : {}),
  };
}

/** Headlamp values with the user's `addons.headlamp.values` merged last. */
export function headlampValues(o: HeadlampOptions, user?: HelmValues): HelmValues {
  return helmMerge(headlampBaseValues(o), user);
}
