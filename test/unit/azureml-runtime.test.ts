import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { requirePythonModules } from "../support/tools.js";

/** Debian's Python, where python3-pandas installs numpy and pandas (CI installs it). */
const PYTHON = "/usr/bin/python3";

describe("the 2017 runtime modules (scoring/azureml), by their Python tests", () => {
  it("pass: schemas in the 2017 format, typed inputs, data collection, assets, logging, compatibility", () => {
    requirePythonModules(PYTHON, ["numpy", "pandas", "sklearn"], "python3-pandas python3-sklearn");
    const result = spawnSync(PYTHON, ["-m", "unittest", "discover", "-s", join(PROJECT_ROOT, "test", "scoring"), "-v"], {
      env: { ...process.env, PYTHONPATH: join(PROJECT_ROOT, "scoring"), PYTHONDONTWRITEBYTECODE: "1" },
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Ran \d+ tests/);
    expect(result.stderr).not.toMatch(/skipped/);
  });
});
