import type {
  KubernetesObject,
  V1Deployment,
  V1Ingress,
  V1NetworkPolicy,
  V1Secret,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { DeploymentRefused, type DeploymentSpec } from "../compute-target.js";

/** The scoring server's port in every image (spec/scoring.md). */
const SCORING_PORT = 5001;
/** Where the service's keys are mounted; the scoring server checks `Authorization` against them. */
const KEYS_DIR = "/var/azureml-secrets/keys";
const MANAGED_BY = "model-management";
const SERVICE_LABEL = "model-management.io/service";
const DEPLOYMENT_ANNOTATION = "model-management.io/deployment-id";

export interface AksSettings {
  /** The ingress class that exposes scoring URLs: AKS's application routing add-on by default. */
  ingressClassName: string;
  /** The namespace of that ingress class's controller: the one namespace scoring pods take traffic from. */
  ingressNamespace: string;
  /** How long a rollout may take before Kubernetes calls it failed (the Deployment's progress deadline). */
  progressDeadlineSeconds: number;
  /** Given to the pods of services with appInsightsEnabled, for the scoring server's request telemetry. */
  appInsightsConnectionString?: string;
}

export const DEFAULT_AKS_SETTINGS: AksSettings = {
  ingressClassName: "webapprouting.kubernetes.azure.com",
  ingressNamespace: "app-routing-system",
  progressDeadlineSeconds: 300,
};

/**
 * Where a pod would find the node's credentials: the instance metadata service (managed identity
 * tokens, among them the kubelet's, which may pull every image of the registry) and Azure's
 * wire server. A driver is one account's untrusted code; it reaches neither.
 */
const NODE_METADATA_ENDPOINTS = ["169.254.169.254/32", "168.63.129.16/32"];

/**
 * One namespace per account. A service's target name ends with six hex digits of the account's
 * hash (functions/http/services.ts), so every call that names a service also names its namespace.
 */
export function namespaceOf(targetName: string): string {
  const m = /-([0-9a-f]{6})$/.exec(targetName);
  if (!m) throw new Error(`"${targetName}" is not a service's target name (<name>-<6 hex digits>).`);
  return `mm-${m[1]}`;
}

/**
 * The name of a service's Kubernetes objects. A service's target name may start with a digit
 * (service names may), and a Kubernetes Service's name may not (a DNS-1035 label): such a name
 * gets a prefix, and every other name stays as it was, so objects of existing services keep theirs.
 */
export function kubeNameOf(targetName: string): string {
  return /^[a-z]/.test(targetName) ? targetName : `s-${targetName}`;
}

const keysSecretName = (kubeName: string): string => `${kubeName}-keys`;
export const selectorOf = (targetName: string): string => `${SERVICE_LABEL}=${kubeNameOf(targetName)}`;

/** `<registry>/<repository>@<digest>`: pods run exactly the image that was built, whatever its tag becomes. */
export function pinnedImage(location: string, digest: string): string {
  if (location.startsWith("oci:")) {
    throw new DeploymentRefused(
      `The image is in the local builder's OCI layout (${location}); build it for the AKS compute target (ACR) to run it there.`,
    );
  }
  const withoutTag = location.replace(/@sha256:[0-9a-f]{64}$/, "").replace(/:[^/:]+$/, "");
  return `${withoutTag}@${digest}`;
}

/**
 * Every Kubernetes object a service's deployment consists of, in the order they are applied (in
 * its account's namespace, which account-namespaces.ts makes): the NetworkPolicy that lets the
 * ingress controller in and keeps node credentials out, the Secret with its keys, the Deployment
 * (rolling update that keeps every old pod until a new one is ready), the Service, the Ingress
 * exposing `/api/v1/service/<name>/score` and `/swagger.json`, and an autoscaling/v2
 * HorizontalPodAutoscaler when the autoscaler is on.
 */
export function serviceObjects(spec: DeploymentSpec, settings: AksSettings = DEFAULT_AKS_SETTINGS): KubernetesObject[] {
  const name = kubeNameOf(spec.targetName);
  const namespace = namespaceOf(spec.targetName);
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": MANAGED_BY, [SERVICE_LABEL]: name };
  const meta = { name, namespace, labels, targetName: spec.targetName };
  return [
    networkPolicy(meta, settings),
    keysSecret(spec),
    deployment(spec, settings, meta),
    service(meta),
    ingress(meta, settings),
    ...(spec.autoscaler ? [autoscaler(spec, meta)] : []),
  ];
}

export function keysSecret(spec: Pick<DeploymentSpec, "targetName" | "keys">): V1Secret {
  const name = kubeNameOf(spec.targetName);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: keysSecretName(name),
      namespace: namespaceOf(spec.targetName),
      labels: { "app.kubernetes.io/managed-by": MANAGED_BY, [SERVICE_LABEL]: name },
    },
    type: "Opaque",
    data: {
      primaryKey: Buffer.from(spec.keys.primary).toString("base64"),
      secondaryKey: Buffer.from(spec.keys.secondary).toString("base64"),
    },
  };
}

/** The objects' metadata; `targetName` (the scoring URL's) is not part of it. */
type Meta = { name: string; namespace: string; labels: Record<string, string>; targetName: string };
const metadataOf = ({ name, namespace, labels }: Meta) => ({ name, namespace, labels });

function deployment(spec: DeploymentSpec, settings: AksSettings, meta: Meta): V1Deployment {
  const probe = { httpGet: { path: "/", port: SCORING_PORT }, periodSeconds: 5, timeoutSeconds: 3 };
  const reservation = spec.containerResourceReservation;
  const requests = {
    ...(reservation?.cpu ? { cpu: reservation.cpu } : {}),
    ...(reservation?.memory ? { memory: reservation.memory } : {}),
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadataOf(meta),
    spec: {
      // With the autoscaler on, the HorizontalPodAutoscaler owns the replica count.
      ...(spec.autoscaler ? {} : { replicas: spec.replicas }),
      selector: { matchLabels: { [SERVICE_LABEL]: meta.name } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: settings.progressDeadlineSeconds,
      revisionHistoryLimit: 5,
      template: {
        metadata: { labels: meta.labels, annotations: { [DEPLOYMENT_ANNOTATION]: spec.deploymentId } },
        spec: {
          // A driver is one account's untrusted code: the pod runs it as nobody, with no service
          // account token, no capabilities, no privilege escalation, a read-only root and the
          // runtime's default seccomp profile; only /tmp is writable.
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            fsGroup: 65534,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "scoring",
              image: pinnedImage(spec.image.location, spec.image.digest),
              ports: [{ name: "http", containerPort: SCORING_PORT }],
              env: [
                ...Object.entries(spec.env).map(([k, v]) => ({ name: k, value: v })),
                { name: "AML_KEYS_DIR", value: KEYS_DIR },
                // The root is read-only: no bytecode is written beside the driver.
                { name: "PYTHONDONTWRITEBYTECODE", value: "1" },
                { name: "AML_MAX_CONCURRENT_REQUESTS", value: String(spec.maxConcurrentRequestsPerContainer) },
                ...(spec.env.AML_APP_INSIGHTS_ENABLED === "true" && settings.appInsightsConnectionString
                  ? [{ name: "APPLICATIONINSIGHTS_CONNECTION_STRING", value: settings.appInsightsConnectionString }]
                  : []),
              ],
              ...(Object.keys(requests).length
                ? { resources: { requests, ...(requests.memory ? { limits: { memory: requests.memory } } : {}) } }
                : {}),
              readinessProbe: { ...probe, initialDelaySeconds: 1, failureThreshold: 3 },
              // A slow init() is not a dead server: liveness waits far longer than readiness.
              livenessProbe: { ...probe, initialDelaySeconds: 30, failureThreshold: 6 },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "keys", mountPath: KEYS_DIR, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "keys", secret: { secretName: keysSecretName(meta.name) } },
            { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
          ],
        },
      },
    },
  };
}

/**
 * The namespace lets its pods take traffic from the namespace only and denies them every
 * outgoing connection (account-namespaces.ts); policies add up, and this one lets the ingress
 * controller reach the scoring port, and the pods reach the cluster's DNS and anything outside
 * the cluster but the node's metadata endpoints.
 */
function networkPolicy(meta: Meta, settings: AksSettings): V1NetworkPolicy {
  const namespaceNamed = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { ...metadataOf(meta), name: networkPolicyName(meta.name) },
    spec: {
      podSelector: { matchLabels: { [SERVICE_LABEL]: meta.name } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ _from: [namespaceNamed(settings.ingressNamespace)], ports: [{ protocol: "TCP", port: SCORING_PORT }] }],
      egress: [
        {
          to: [{ ...namespaceNamed("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: NODE_METADATA_ENDPOINTS } }] },
      ],
    },
  };
}

export const networkPolicyName = (kubeName: string): string => `${kubeName}-network`;

function service(meta: Meta): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadataOf(meta),
    spec: { type: "ClusterIP", selector: { [SERVICE_LABEL]: meta.name }, ports: [{ name: "http", port: 80, targetPort: SCORING_PORT }] },
  };
}

function ingress(meta: Meta, settings: AksSettings): V1Ingress {
  const backend = { service: { name: meta.name, port: { number: 80 } } };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      ...metadataOf(meta),
      // The scoring URL's path is the 2017 one; the server answers /score and /swagger.json.
      annotations: { "nginx.ingress.kubernetes.io/use-regex": "true", "nginx.ingress.kubernetes.io/rewrite-target": "/$1" },
    },
    spec: {
      ingressClassName: settings.ingressClassName,
      rules: [
        {
          http: {
            paths: [{ path: `/api/v1/service/${meta.targetName}/(score|swagger\\.json)$`, pathType: "ImplementationSpecific", backend }],
          },
        },
      ],
    },
  };
}

function autoscaler(spec: DeploymentSpec, meta: Meta): V2HorizontalPodAutoscaler {
  const a = spec.autoscaler!;
  const policy = { type: "Pods", value: 1, periodSeconds: Math.max(1, a.refreshPeriodInSeconds) };
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: metadataOf(meta),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: meta.name },
      // Kubernetes scales between 1 and max; a minimum of 0 (scale to zero) is not for an HPA.
      minReplicas: Math.max(1, a.minReplicas),
      maxReplicas: a.maxReplicas,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.targetUtilization } } }],
      behavior: { scaleUp: { policies: [policy] }, scaleDown: { policies: [policy] } },
    },
  };
}

/** The deployment id a Deployment's pod template carries. */
export function deploymentIdOf(d: V1Deployment | undefined): string | undefined {
  return d?.spec?.template?.metadata?.annotations?.[DEPLOYMENT_ANNOTATION];
}
