import { describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1";
import { Secret, Service } from "kubernetes-models/v1";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type {
  KubernetesObject,
  V1Deployment,
  V1Ingress,
  V1NetworkPolicy,
  V1Secret,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { namespaceOf, pinnedImage, serviceObjects } from "../../shared/compute/aks/kube-objects.js";
import type { DeploymentSpec } from "../../shared/compute/compute-target.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const base: DeploymentSpec = {
  targetName: "iris-3f9a2c",
  deploymentId: "0b9c3a52-5f0e-4d3c-9d59-6a1c2f0e9b11",
  image: { location: "mmregistry.azurecr.io/default-3f9a2c/iris:4", digest: DIGEST },
  replicas: 2,
  maxConcurrentRequestsPerContainer: 5,
  keys: { primary: "p-key", secondary: "s-key" },
  env: { AML_APP_INSIGHTS_ENABLED: "false", AML_MODEL_DC_STORAGE_ENABLED: "false", AML_MODEL_DC_EVENT_HUB_ENABLED: "false" },
};

/**
 * An object as the client library sends it: its models name the one field that is a reserved
 * word in TypeScript, a network policy rule's `from`, `_from`.
 */
const wire = (o: KubernetesObject): KubernetesObject => JSON.parse(JSON.stringify(o).replaceAll('"_from":', '"from":')) as KubernetesObject;

/** Validates an object against the Kubernetes OpenAPI schema of its kind (kubernetes-models). */
function validate(o: KubernetesObject): void {
  const models: Record<string, new (data: never) => { validate(): void }> = {
    "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
    "v1/Secret": Secret,
    "v1/Service": Service,
    "apps/v1/Deployment": Deployment,
    "networking.k8s.io/v1/Ingress": Ingress,
    "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  };
  const Model = models[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`No schema for ${o.apiVersion}/${o.kind}`);
  new Model(wire(o) as never).validate();
}

const configurations: [string, DeploymentSpec][] = [
  ["fixed replicas", base],
  [
    "autoscaler, reservation",
    {
      ...base,
      autoscaler: { minReplicas: 1, maxReplicas: 8, targetUtilization: 70, refreshPeriodInSeconds: 1 },
      containerResourceReservation: { cpu: "500m", memory: "1Gi" },
    },
  ],
  [
    "autoscaler from zero, cpu only",
    {
      ...base,
      autoscaler: { minReplicas: 0, maxReplicas: 3, targetUtilization: 40, refreshPeriodInSeconds: 30 },
      containerResourceReservation: { cpu: "0.25" },
    },
  ],
  [
    "data collection, no replicas",
    {
      ...base,
      replicas: 0,
      dataCollection: {
        container: "modeldata",
        servicePrefix: "s/rg/a/iris",
        models: [{ names: ["iris", "model.pkl"], prefix: "s/rg/a/iris/m-1" }],
      },
      env: { ...base.env, AML_MODEL_DC_STORAGE_ENABLED: "true" },
    },
  ],
];

describe("the AKS target's Kubernetes objects", () => {
  for (const [label, spec] of configurations) {
    it(`are valid against the Kubernetes schemas: ${label}`, () => {
      const objects = serviceObjects(spec);
      expect(objects.map((o) => o.kind)).toEqual([
        "NetworkPolicy",
        "Secret",
        "Deployment",
        "Service",
        "Ingress",
        ...(spec.autoscaler ? ["HorizontalPodAutoscaler"] : []),
      ]);
      for (const o of objects) validate(o);
      expect(new Set(objects.map((o) => o.metadata?.namespace))).toEqual(new Set(["mm-3f9a2c"]));
    });
  }

  it("runs the built image pinned by digest, probed on port 5001, with the reservation and keys mounted", () => {
    const [, secret, deployment, , ingress, hpa] = serviceObjects(configurations[1]![1]) as [
      V1NetworkPolicy,
      V1Secret,
      V1Deployment,
      V1Service,
      V1Ingress,
      V2HorizontalPodAutoscaler,
    ];
    const container = deployment.spec!.template.spec!.containers[0]!;
    expect(container.image).toBe(`mmregistry.azurecr.io/default-3f9a2c/iris@${DIGEST}`);
    expect(container.readinessProbe!.httpGet).toEqual({ path: "/", port: 5001 });
    expect(container.livenessProbe!.httpGet).toEqual({ path: "/", port: 5001 });
    expect(container.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "1Gi" } });
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(deployment.spec!.strategy!.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(Buffer.from(secret.data!.primaryKey!, "base64").toString()).toBe("p-key");
    expect(ingress.spec!.rules![0]!.http!.paths[0]!.path).toBe("/api/v1/service/iris-3f9a2c/(score|swagger\\.json)$");
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 8, scaleTargetRef: { kind: "Deployment", name: "iris-3f9a2c" } });
    expect(hpa.spec!.metrics![0]!.resource!.target).toEqual({ type: "Utilization", averageUtilization: 70 });
  });

  it("runs the driver confined: as nobody, no token, no capabilities, no privilege escalation, a read-only root", () => {
    const deployment = serviceObjects(base)[2] as V1Deployment;
    const pod = deployment.spec!.template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.containers[0]!.volumeMounts!.map((m) => m.mountPath)).toContain("/tmp");
  });

  it("gives the App Insights connection string to the pods of services that enable it, and only to them", () => {
    const settings = {
      ingressClassName: "nginx",
      ingressNamespace: "ingress-nginx",
      progressDeadlineSeconds: 120,
      appInsightsConnectionString: "InstrumentationKey=k;IngestionEndpoint=https://x/",
    };
    const envOf = (spec: DeploymentSpec) =>
      (
        (serviceObjects(spec, settings)[2] as V1Deployment).spec!.template.spec!.containers[0]!.env as { name: string; value: string }[]
      ).map((e) => e.name);
    expect(envOf({ ...base, env: { ...base.env, AML_APP_INSIGHTS_ENABLED: "true" } })).toContain("APPLICATIONINSIGHTS_CONNECTION_STRING");
    expect(envOf(base)).not.toContain("APPLICATIONINSIGHTS_CONNECTION_STRING");
    expect((serviceObjects(base, settings)[2] as V1Deployment).spec!.progressDeadlineSeconds).toBe(120);
  });

  it("lets the ingress controller reach the scoring port, and the pods reach DNS and the world but not the node's credentials", () => {
    const policy = wire(serviceObjects(base)[0]!) as V1NetworkPolicy & { spec: { ingress: { from: unknown[] }[] } };
    expect(policy.metadata?.name).toBe("iris-3f9a2c-network");
    expect(policy.spec!.podSelector).toEqual({ matchLabels: { "model-management.io/service": "iris-3f9a2c" } });
    expect(policy.spec!.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "app-routing-system" } } }],
        ports: [{ protocol: "TCP", port: 5001 }],
      },
    ]);
    const egress = policy.spec!.egress!;
    expect(egress.find((r) => r.ports?.some((p) => p.port === 53))!.to).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      },
    ]);
    expect(egress.find((r) => r.to?.[0]?.ipBlock)!.to![0]!.ipBlock).toEqual({
      cidr: "0.0.0.0/0",
      except: ["169.254.169.254/32", "168.63.129.16/32"],
    });
  });

  it("would notice an object the schemas refuse", () => {
    const deployment = serviceObjects(base)[2] as V1Deployment;
    expect(() => validate({ ...deployment, spec: { ...deployment.spec, replicas: "two" } } as KubernetesObject)).toThrow();
    expect(() => validate({ ...deployment, spec: { ...deployment.spec, selector: undefined } } as KubernetesObject)).toThrow();
  });

  it("keeps the replica count with fixed replicas, and refuses images only the local builder has", () => {
    const deployment = serviceObjects(base)[2] as V1Deployment;
    expect(deployment.spec!.replicas).toBe(2);
    expect(() => pinnedImage("oci:/data/images/oci:default/iris:1", DIGEST)).toThrow("build it for the AKS compute target");
    expect(() => namespaceOf("no-hash")).toThrow("is not a service's target name");
  });
});
