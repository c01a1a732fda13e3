/** What a compute target runs for one deployment of a service. */
export interface DeploymentSpec {
  /** The service's name on the target (unique across accounts). */
  targetName: string;
  deploymentId: string;
  image: { location: string; digest: string };
  replicas: number;
  autoscaler?: { minReplicas: number; maxReplicas: number; targetUtilization: number; refreshPeriodInSeconds: number };
  maxConcurrentRequestsPerContainer: number;
  containerResourceReservation?: { cpu?: string; memory?: string };
  keys: { primary: string; secondary: string };
  /** The scoring server's settings (AML_*). */
  env: Record<string, string>;
  /** Model data collection, when the service has it on: where collected rows go. */
  dataCollection?: DataCollectionTarget;
}

/**
 * Where a service's model data goes (the 2017 layout): in `container`, one blob path prefix per
 * model of the service, `<subscription>/<resourceGroup>/<account>/<service>/<modelId>-<modelName>-<version>`.
 * A driver's `ModelDataCollector(name)` goes to the model it names (by its registered name or its
 * file name in the image); rows of a name no model has go under `servicePrefix/<name>`.
 */
export interface DataCollectionTarget {
  container: string;
  servicePrefix: string;
  models: { names: string[]; prefix: string }[];
}

export interface RolloutState {
  state: "InProgress" | "Succeeded" | "Failed";
  error?: string;
  /** Where the service scores, when the target learns it only once deployed (an AKS ingress's address). */
  scoringUri?: string;
}

/** Where services run: the local runtime, or an AKS cluster. One contract, two implementations. */
export interface ComputeTarget {
  scoringUri(targetName: string): string;
  /** Starts rolling the deployment out; the old one keeps serving until the new one is healthy. */
  deploy(spec: DeploymentSpec): Promise<void>;
  rolloutState(targetName: string, deploymentId: string): Promise<RolloutState>;
  /**
   * Gives up on a rollout that outlived its deadline: the target stops it and goes back to what
   * served before, so that nothing comes up later behind a failed operation. The state it ended
   * in: `Failed` saying what was done, or `Succeeded` when it made it after all.
   */
  abandon(targetName: string, deploymentId: string, why: string): Promise<RolloutState>;
  /** Replaces the keys at once, with no restart. */
  updateKeys(targetName: string, keys: { primary: string; secondary: string }): Promise<void>;
  /** Stops everything the service runs; a service the target does not know is fine. */
  delete(targetName: string): Promise<void>;
  logs(targetName: string, tail: number): Promise<string>;
}

/** A deployment the target cannot run as asked (an image it cannot pull): retrying will not help. */
export class DeploymentRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeploymentRefused";
  }
}
