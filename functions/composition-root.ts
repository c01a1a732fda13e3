import { loadConfig, type Config } from "../shared/config.js";
import { createTokenValidator, type TokenValidator } from "../shared/auth/token-validator.js";
import { openResourcesContainer } from "../shared/store/cosmos.js";
import { AccountRepository } from "../shared/store/account-repository.js";
import { ModelRepository } from "../shared/store/model-repository.js";
import { ManifestRepository } from "../shared/store/manifest-repository.js";
import { ensureAccount } from "../shared/account-service.js";
import { parseAccountPath } from "../shared/account-ref.js";

/** Everything the functions use, built once per process from the app settings. */
export interface AppDeps {
  config: Config;
  authenticate: TokenValidator;
  accounts: AccountRepository;
  models: ModelRepository;
  manifests: ManifestRepository;
}

async function buildDeps(): Promise<AppDeps> {
  const config = loadConfig(process.env);
  const container = await openResourcesContainer(config.cosmos);
  const deps: AppDeps = {
    config,
    authenticate: createTokenValidator(config.auth),
    accounts: new AccountRepository(container),
    models: new ModelRepository(container),
    manifests: new ManifestRepository(container),
  };
  if (config.bootstrap) {
    const { accountPath, ownerId } = config.bootstrap;
    await ensureAccount(deps.accounts, accountPath, parseAccountPath(accountPath), ownerId);
  }
  return deps;
}

let deps: Promise<AppDeps> | undefined;

/** The app's dependencies, built on first use; a failed build is retried by the next request. */
export function getDeps(): Promise<AppDeps> {
  deps ??= buildDeps().catch((err: unknown) => {
    deps = undefined;
    throw err;
  });
  return deps;
}
