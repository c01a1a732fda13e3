import { Command, Option } from "commander";
import { CliError, EXIT } from "../errors.js";
import { normalizeAccount } from "../context.js";
import { forgetProfile, localDataDir, readLocalEndpoints, saveProfile, type Profile } from "../settings.js";
import { tokenSource } from "../auth.js";
import { ModelManagementApi } from "../api.js";

interface LoginFlags {
  endpoint?: string;
  account?: string;
  dataDir?: string;
  scope?: string;
  tenant?: string;
  storage?: string;
  useDeviceCode?: boolean;
  method?: "cli" | "device-code" | "default";
}

export function loginCommand(): Command {
  return new Command("login")
    .description("Sign in: to the local stack (its own issuer), or to a hosted endpoint with Entra ID")
    .option("--scope <scope>", "a hosted API's Entra ID scope, e.g. api://model-management/.default")
    .option("--tenant <id>", "the Entra ID tenant")
    .option("--storage <url>", "the blob endpoint uploads go to, e.g. https://<account>.blob.core.windows.net")
    .addOption(
      new Option("--method <method>", "how to sign in to Entra ID: the Azure CLI's login, a device code, or DefaultAzureCredential")
        .choices(["cli", "device-code", "default"])
        .default("cli"),
    )
    .option("--use-device-code", "same as --method device-code")
    .action(async (opts: LoginFlags, command: Command) => {
      const g = command.optsWithGlobals<LoginFlags>();
      let profile: Profile;
      // The local stack: no endpoint given, or a loopback one without an Entra ID scope.
      const loopback = g.endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(g.endpoint);
      if (!g.endpoint || (loopback && !opts.scope)) {
        const dataDir = localDataDir(g.dataDir);
        const local = readLocalEndpoints(dataDir);
        profile = {
          endpoint: g.endpoint ?? local.api,
          account: g.account ? normalizeAccount(g.account) : local.account,
          auth: { kind: "local", dataDir },
          storage: { blobEndpoint: local.blob, auth: "azurite" },
        };
      } else {
        if (!opts.scope)
          throw new CliError("A hosted endpoint needs --scope, the API's Entra ID scope (e.g. api://<app id>/.default).", EXIT.usage);
        const method = opts.useDeviceCode ? "device-code" : (opts.method ?? "cli");
        profile = {
          endpoint: g.endpoint.replace(/\/$/, ""),
          ...(g.account ? { account: normalizeAccount(g.account) } : {}),
          auth: { kind: "azure", scope: opts.scope, method, ...(opts.tenant ? { tenantId: opts.tenant } : {}) },
          ...(opts.storage ? { storage: { blobEndpoint: opts.storage.replace(/\/$/, ""), auth: "azure" as const } } : {}),
        };
      }
      // Prove the sign-in works before saving it: one authenticated call.
      const token = tokenSource(profile.auth);
      if (profile.account) await new ModelManagementApi(profile.endpoint, profile.account, token).get("");
      else await token();
      saveProfile(profile);
      process.stderr.write(
        `Signed in to ${profile.endpoint}${profile.account ? `; account ${profile.account}` : "; choose an account with mm account set"}.\n`,
      );
    });
}

export function logoutCommand(): Command {
  return new Command("logout").description("Forget the saved sign-in and default account").action(() => {
    forgetProfile();
    process.stderr.write("Signed out.\n");
  });
}
