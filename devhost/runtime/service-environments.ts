import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ENVIRONMENT_FILES, findCondaTool } from "../../shared/image-building/environment-files.js";

/** Installing an environment's packages may take this long before the rollout fails. */
const INSTALL_TIMEOUT_MS = Number(process.env.RUNTIME_ENV_TIMEOUT_MS ?? 20 * 60_000);
const OUTPUT_LINES = 25;

/** An environment that could not be made: the rollout fails with this message. */
export class EnvironmentFailure extends Error {}

/**
 * The Python a service's replicas run on. An image whose manifest has pip requirements runs in a
 * virtual environment made for that requirements file (with the runtime's interpreter and
 * `--system-site-packages`, so what that interpreter has stays available), installed once and
 * reused by every image with the same file. A conda file is applied when conda, mamba or
 * micromamba is on the PATH, as an environment of its own (pip requirements then go into it);
 * otherwise the replicas say so in their log and run on the runtime's interpreter. pip and conda
 * run with the user's own settings (pip.conf, PIP_INDEX_URL, .condarc, …): nothing is overridden.
 */
export class ServiceEnvironments {
  #making = new Map<string, Promise<string>>();

  constructor(private readonly options: { dir: string; python: string }) {}

  /** The interpreter for an unpacked image, and notes for the replicas' log on how it was chosen. */
  async pythonFor(rootfs: string, imageEnv: Record<string, string>): Promise<{ python: string; notes: string[] }> {
    const inImage = (variable: string) => (imageEnv[variable] ? join(rootfs, imageEnv[variable]!) : undefined);
    const requirements = inImage(ENVIRONMENT_FILES.pipRequirements.env);
    const conda = inImage(ENVIRONMENT_FILES.condaEnvFile.env);
    const notes: string[] = [];
    let python = this.options.python;
    if (conda) {
      const tool = findCondaTool(process.env.PATH);
      if (tool) {
        python = await this.#once(`conda-${digest(tool.path, await readFile(conda))}`, (prefix) => this.#createConda(tool, conda, prefix));
        notes.push(`[environment] the conda file is applied: environment ${python.replace(/\/bin\/python$/, "")} (made with ${tool.name})`);
      } else {
        notes.push(
          `[environment] the manifest's conda file is NOT applied: no conda, mamba or micromamba on the local runtime's PATH; the driver runs on ${python}`,
        );
      }
    }
    if (requirements && !(await listsPackages(requirements))) {
      notes.push("[environment] the pip requirements list nothing left to install");
    } else if (requirements) {
      const base = python;
      python = await this.#once(`venv-${digest(base, await readFile(requirements))}`, (dir) => this.#createVenv(base, requirements, dir));
      notes.push(
        `[environment] pip requirements installed in ${python.replace(/\/bin\/python$/, "")} (a virtual environment of ${base} with its site packages)`,
      );
    }
    if (python === this.options.python && !conda) notes.push(`[environment] the driver runs on ${python}`);
    return { python, notes };
  }

  /** Makes an environment at most once: a finished one has a `.ready` marker; a half-made one is made again. */
  #once(name: string, make: (dir: string) => Promise<void>): Promise<string> {
    const dir = join(this.options.dir, name);
    const python = join(dir, "bin", "python");
    let pending = this.#making.get(name);
    if (!pending) {
      pending = (async () => {
        if (existsSync(join(dir, ".ready"))) return python;
        await rm(dir, { recursive: true, force: true });
        await mkdir(this.options.dir, { recursive: true });
        await make(dir);
        await writeFile(join(dir, ".ready"), new Date().toISOString());
        return python;
      })().finally(() => this.#making.delete(name));
      this.#making.set(name, pending);
    }
    return pending;
  }

  async #createVenv(base: string, requirements: string, dir: string): Promise<void> {
    // The venv borrows the base interpreter's pip through its site packages: it needs no
    // ensurepip, and pip installs into the venv, its sys.prefix.
    await run(base, ["-m", "venv", "--system-site-packages", "--without-pip", dir], "make a virtual environment");
    await run(
      join(dir, "bin", "python"),
      ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", requirements],
      "install the pip requirements",
      (output) =>
        /No module named pip/.test(output)
          ? ` ${base} has no pip: install it (e.g. apt-get install python3-pip) or set PYTHON to an interpreter that has one.`
          : "",
    );
  }

  async #createConda(tool: { name: string; path: string }, file: string, prefix: string): Promise<void> {
    const args =
      tool.name === "micromamba"
        ? ["create", "--yes", "--prefix", prefix, "--file", file]
        : ["env", "create", "--prefix", prefix, "--file", file];
    await run(tool.path, args, `apply the conda file with ${tool.name}`);
  }
}

/** Whether a requirements file names anything (the build comments out what every image has). */
async function listsPackages(requirements: string): Promise<boolean> {
  return (await readFile(requirements, "utf8")).split("\n").some((line) => line.trim() !== "" && !line.trim().startsWith("#"));
}

/** An environment's name: what it is made with, and of. */
function digest(maker: string, file: Buffer): string {
  return createHash("sha256").update(maker).update("\0").update(file).digest("hex").slice(0, 16);
}

/** Runs a tool to its end; a failure says what was being done, with the tool's last lines. */
function run(command: string, args: string[], doing: string, hint: (output: string) => string = () => ""): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    const keep = (chunk: Buffer) => {
      lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l.trim()),
      );
      lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES));
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), INSTALL_TIMEOUT_MS);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new EnvironmentFailure(`Could not ${doing}: ${command} did not start (${err.message}).`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const output = lines.join("\n");
      const why = signal ? `it was stopped after ${INSTALL_TIMEOUT_MS / 1000} s` : `it exited with code ${code}`;
      reject(new EnvironmentFailure(`Could not ${doing} (${why}).${hint(output)}\n${output}`));
    });
  });
}
