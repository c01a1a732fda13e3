import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentFailure, ServiceEnvironments } from "../../devhost/runtime/service-environments.js";
import { TINY_PACKAGE, buildWheelHouse } from "../fixtures/wheel-house.js";
import { requirePythonModules } from "../support/tools.js";

/** Debian's Python, whose pip (python3-pip) the virtual environments borrow. */
const PYTHON = "/usr/bin/python3";

/** An unpacked image's root with the environment files a manifest may carry. */
function imageRoot(files: { requirements?: string; conda?: string }): { rootfs: string; env: Record<string, string> } {
  const rootfs = mkdtempSync(join(tmpdir(), "mm-rootfs-"));
  mkdirSync(join(rootfs, "var", "azureml-env"), { recursive: true });
  const env: Record<string, string> = {};
  if (files.requirements !== undefined) {
    writeFileSync(join(rootfs, "var", "azureml-env", "requirements.txt"), files.requirements);
    env.AML_PIP_REQUIREMENTS = "/var/azureml-env/requirements.txt";
  }
  if (files.conda !== undefined) {
    writeFileSync(join(rootfs, "var", "azureml-env", "conda_dependencies.yml"), files.conda);
    env.AML_CONDA_FILE = "/var/azureml-env/conda_dependencies.yml";
  }
  return { rootfs, env };
}

/** Runs `fn` with environment variables set, as the runtime process would have them. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("service environments on the local runtime", () => {
  it("installs pip requirements into one virtual environment per requirements file, with the user's pip settings, and reuses it", async () => {
    requirePythonModules(PYTHON, ["pip", "sklearn"], "python3-pip python3-sklearn");
    const house = buildWheelHouse(mkdtempSync(join(tmpdir(), "mm-wheels-")), PYTHON);
    const dir = mkdtempSync(join(tmpdir(), "mm-envs-"));
    const environments = new ServiceEnvironments({ dir, python: PYTHON });
    const image = imageRoot({ requirements: `${TINY_PACKAGE}\n` });
    // The user's own pip settings (here: no index, a local wheel house) reach pip untouched.
    const first = await withEnv({ PIP_NO_INDEX: "1", PIP_FIND_LINKS: house }, () => environments.pythonFor(image.rootfs, image.env));
    expect(first.python).toMatch(new RegExp(`^${dir}/venv-[0-9a-f]{16}/bin/python$`));
    expect(first.notes).toEqual([
      expect.stringMatching(
        /^\[environment\] pip requirements installed in .*venv-[0-9a-f]{16} \(a virtual environment of \/usr\/bin\/python3 with its site packages\)$/,
      ),
    ]);
    // The tiny package from the wheel house, and what the base interpreter has (scikit-learn).
    expect(
      execFileSync(first.python, ["-c", "import mm_tiny_wheel, sklearn; print(mm_tiny_wheel.greet('x'))"], { encoding: "utf8" }).trim(),
    ).toBe("hello x");

    // Another image with the same file gets the same environment, made once: its marker is untouched.
    const marker = join(first.python, "..", "..", ".ready");
    const made = statSync(marker).mtimeMs;
    const again = imageRoot({ requirements: `${TINY_PACKAGE}\n` });
    const second = await environments.pythonFor(again.rootfs, again.env);
    expect(second.python).toBe(first.python);
    expect(statSync(marker).mtimeMs).toBe(made);
    expect(readdirSync(dir).filter((n) => n.startsWith("venv-"))).toHaveLength(1);
  });

  it("fails with pip's own last lines when the requirements cannot be installed, leaving no environment marked ready", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-envs-"));
    const environments = new ServiceEnvironments({ dir, python: PYTHON });
    const image = imageRoot({ requirements: "mm-no-such-package==9.9\n" });
    const failure = await withEnv({ PIP_NO_INDEX: "1" }, () => environments.pythonFor(image.rootfs, image.env)).catch(
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(EnvironmentFailure);
    expect((failure as Error).message).toMatch(/^Could not install the pip requirements \(it exited with code 1\)\.\n/);
    expect((failure as Error).message).toContain("No matching distribution found for mm-no-such-package==9.9");
    const [venv] = readdirSync(dir);
    expect(existsSync(join(dir, venv!, ".ready"))).toBe(false);
  });

  it("says a conda file is not applied when no conda tool is on the PATH, and which interpreter runs the driver", async () => {
    const environments = new ServiceEnvironments({ dir: mkdtempSync(join(tmpdir(), "mm-envs-")), python: PYTHON });
    const image = imageRoot({ conda: "dependencies:\n  - scikit-learn\n" });
    const chosen = await withEnv({ PATH: "/usr/bin:/bin" }, () => environments.pythonFor(image.rootfs, image.env));
    expect(chosen).toEqual({
      python: PYTHON,
      notes: [
        `[environment] the manifest's conda file is NOT applied: no conda, mamba or micromamba on the local runtime's PATH; the driver runs on ${PYTHON}`,
      ],
    });
  });

  it("applies a conda file with micromamba when it is on the PATH (a fake micromamba that records its arguments)", async () => {
    // FAKE: micromamba cannot be installed here (no conda in Debian, no internet). This stand-in
    // takes micromamba's documented `create --yes --prefix P --file F`, records it, and makes P
    // an environment whose python is Debian's.
    const bin = mkdtempSync(join(tmpdir(), "mm-fake-conda-"));
    const calls = join(bin, "calls.txt");
    writeFileSync(
      join(bin, "micromamba"),
      `#!/bin/sh\necho "$@" >> ${calls}\nwhile [ $# -gt 0 ]; do [ "$1" = "--prefix" ] && prefix="$2"; shift; done\nmkdir -p "$prefix/bin" && ln -s ${PYTHON} "$prefix/bin/python"\n`,
    );
    chmodSync(join(bin, "micromamba"), 0o755);
    const dir = mkdtempSync(join(tmpdir(), "mm-envs-"));
    const environments = new ServiceEnvironments({ dir, python: PYTHON });
    const image = imageRoot({ conda: "dependencies:\n  - scikit-learn\n" });
    const chosen = await withEnv({ PATH: `${bin}:/usr/bin:/bin` }, () => environments.pythonFor(image.rootfs, image.env));
    expect(chosen.python).toMatch(new RegExp(`^${dir}/conda-[0-9a-f]{16}/bin/python$`));
    expect(chosen.notes[0]).toMatch(
      /^\[environment\] the conda file is applied: environment .*conda-[0-9a-f]{16} \(made with micromamba\)$/,
    );
    const prefix = chosen.python.replace(/\/bin\/python$/, "");
    expect(readFileSync(calls, "utf8")).toBe(
      `create --yes --prefix ${prefix} --file ${join(image.rootfs, "var", "azureml-env", "conda_dependencies.yml")}\n`,
    );
  });
});
