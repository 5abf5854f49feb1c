"""Polar's TypeScript SDK (`@polar-sh/sdk`), unchanged, installed by npm and driven by ESM scripts
run with `node` as subprocesses: the Node twin of sdk_env.py.

Each SDK version is pinned by a package.json and package-lock.json under tests/api/node/ and is
installed with `npm ci` into ~/.cache/team-portal/ts-sdks/<version> (or $TS_SDK_DIR/<version>),
which is reused while it holds that lock file's install. A script gets its inputs as JSON in
$SDK_INPUT and prints one line `RESULT <json>`; anything it throws ends it with a non-zero exit
code and the error, which the test shows.

`python3 -m tests.api.node_env` installs every version (.ci/run does it before pytest); this module
uses the standard library only, so it runs before the project's virtualenv exists.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent / "node"
CACHE = Path(os.environ.get("TS_SDK_DIR", "~/.cache/team-portal/ts-sdks")).expanduser()
VERSIONS = ("0.48.1", "1.0.1")
PINS = ("package.json", "package-lock.json")


class NodeSdkUnavailable(RuntimeError):
    pass


def _installed(folder: Path, version: str) -> bool:
    """The folder holds exactly the pinned install: the same lock file, and every package it
    names installed at its version (so a half-finished install is not taken for one)."""
    pins = HERE / f"polar-sdk-{version}"
    try:
        if any((folder / name).read_bytes() != (pins / name).read_bytes() for name in PINS):
            return False
        packages = json.loads((pins / "package-lock.json").read_text())["packages"]
        for where, info in packages.items():
            if where and json.loads((folder / where / "package.json").read_text())["version"] != info["version"]:
                return False
    except (OSError, ValueError, KeyError):
        return False
    return True


def ensure_sdk(version: str) -> Path:
    """The folder whose node_modules holds `@polar-sh/sdk@version`, installed on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise NodeSdkUnavailable("node and npm are needed for the TypeScript SDK tests "
                                 "(apt-get install nodejs npm)")
    folder = CACHE / version
    if _installed(folder, version):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    # Several test runs share the cache: one installs while the others wait for it.
    with open(folder / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(folder, version):
            return folder
        for name in PINS:
            shutil.copyfile(HERE / f"polar-sdk-{version}" / name, folder / name)
        step = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        try:
            result = subprocess.run(step, cwd=folder, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NodeSdkUnavailable(f"cannot install @polar-sh/sdk@{version}: {exc}") from None
        if result.returncode != 0 or not _installed(folder, version):
            raise NodeSdkUnavailable(f"cannot install @polar-sh/sdk@{version}: "
                                     f"{(result.stderr or result.stdout)[-500:]}")
    return folder


class NodeRunner:
    """Runs ESM scripts that import the SDK installed in `sdk_folder`."""

    def __init__(self, sdk_folder: Path, tmp_dir: Path):
        self.sdk_folder = sdk_folder
        self.tmp_dir = tmp_dir
        self.node = shutil.which("node") or "node"
        # ESM resolves packages from the script's folder upwards (NODE_PATH does not apply).
        link = tmp_dir / "node_modules"
        if not link.exists():
            link.symlink_to(sdk_folder / "node_modules", target_is_directory=True)
        self._count = 0

    def run_code(self, code: str, env: dict[str, str]) -> str:
        """Run `code` as an ES module with `env` added; it must exit 0. Returns its stdout."""
        self._count += 1
        path = self.tmp_dir / f"sdk_script_{self._count}.mjs"
        path.write_text(code)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_")}
        full_env.update(env)
        result = subprocess.run([self.node, str(path)], capture_output=True, text=True,
                                env=full_env, timeout=300, cwd=self.tmp_dir)
        assert result.returncode == 0, (
            f"SDK script failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-5000:]}")
        return result.stdout

    def run(self, script: str, **inputs) -> dict:
        """Run `script` with `inputs`; return what it printed as `RESULT {...}`. (Its `import`s may
        follow the prelude: ES modules hoist them.)"""
        stdout = self.run_code(PRELUDE + textwrap.dedent(script), {"SDK_INPUT": json.dumps(inputs)})
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        assert lines, f"SDK script printed no RESULT:\n{stdout[-3000:]}"
        return json.loads(lines[-1][len("RESULT "):])


PRELUDE = """\
// An error ends the script with its name, message and stack only (node would print the whole
// Request and Response objects the SDK's errors carry).
process.on("uncaughtException", (err) => {
  console.error(`${err?.name}: ${err?.message}`);
  if (err?.cause) console.error(`cause: ${err.cause}`);
  console.error(String(err?.stack ?? "").split("\\n").slice(1, 8).join("\\n"));
  process.exit(1);
});

const INPUT = JSON.parse(process.env.SDK_INPUT);
const OUT = {};

function report() {
  console.log("RESULT " + JSON.stringify(OUT));
}

// Await `call`, which must throw `expected` (the SDK's typed error); return the error.
async function failure(call, expected) {
  let value;
  try {
    value = await call();
  } catch (err) {
    if (err instanceof expected) return err;
    throw err;
  }
  throw new Error(`expected ${expected.name}, got ${JSON.stringify(value)}`);
}

// Every item of an async iterable, in order.
async function all(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}
"""


def main() -> int:
    for version in VERSIONS:
        try:
            print(f"@polar-sh/sdk@{version}: {ensure_sdk(version)}")
        except NodeSdkUnavailable as exc:
            print(exc, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
