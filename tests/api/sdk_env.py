"""The official Polar SDKs and Cloudflare's, each in its own virtualenv, driven by scripts run as subprocesses.

The virtualenvs live under ~/.cache/team-portal/sdk-venvs (or $SDK_VENV_DIR) and are reused
when they already import the SDK. A script gets its inputs as JSON in $SDK_INPUT and prints one
line `RESULT <json>` for the test to check; anything it raises ends it with a non-zero exit code
and a traceback, which the test shows."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SDK_ROOT = Path(os.environ.get("SDK_VENV_DIR", "~/.cache/team-portal/sdk-venvs")).expanduser()

SDKS = {
    "polar-sdk==1.0.2": ("polar-sdk-1.0.2", "from polar.v2026_10 import Polar"),
    "polar-sdk==0.32.0": ("polar-sdk-0.32.0", "from polar_sdk import Polar"),
    "cloudflare==5.9.0": ("cloudflare-5.9.0", "from cloudflare import Cloudflare"),
}


class SdkUnavailable(RuntimeError):
    pass


def _imports(python: Path, statement: str) -> bool:
    if not python.exists():
        return False
    result = subprocess.run([str(python), "-c", statement], capture_output=True, timeout=120)
    return result.returncode == 0


def ensure_venv(requirement: str) -> Path:
    """The virtualenv's python for `requirement`, created on first use."""
    name, statement = SDKS[requirement]
    venv = SDK_ROOT / name
    python = venv / "bin" / "python"
    if _imports(python, statement):
        return python
    SDK_ROOT.mkdir(parents=True, exist_ok=True)
    steps = ([sys.executable, "-m", "venv", "--clear", str(venv)],
             [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement])
    for step in steps:
        try:
            result = subprocess.run(step, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SdkUnavailable(f"cannot create the {requirement} virtualenv: {exc}") from None
        if result.returncode != 0:
            raise SdkUnavailable(f"cannot create the {requirement} virtualenv: "
                                 f"{(result.stderr or result.stdout)[-500:]}")
    if not _imports(python, statement):
        raise SdkUnavailable(f"{requirement} installed but `{statement}` fails")
    return python


class SdkRunner:
    def __init__(self, python: Path, tmp_dir: Path):
        self.python = python
        self.tmp_dir = tmp_dir

    def run_code(self, code: str, env: dict[str, str]) -> str:
        """Run `code` as a script with `env` added; it must exit 0. Returns its stdout."""
        path = self.tmp_dir / "sdk_script.py"
        path.write_text(code)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        full_env.update(env)
        result = subprocess.run([str(self.python), str(path)], capture_output=True, text=True,
                                env=full_env, timeout=300)
        assert result.returncode == 0, (
            f"SDK script failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-5000:]}")
        return result.stdout

    def run(self, script: str, **inputs) -> dict:
        """Run `script` with `inputs`; return what it printed as `RESULT {...}`."""
        stdout = self.run_code(PRELUDE + textwrap.dedent(script), {"SDK_INPUT": json.dumps(inputs)})
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        assert lines, f"SDK script printed no RESULT:\n{stdout[-3000:]}"
        return json.loads(lines[-1][len("RESULT "):])


PRELUDE = '''\
import json, os, sys
INPUT = json.loads(os.environ["SDK_INPUT"])
OUT = {}


def report():
    print("RESULT " + json.dumps(OUT, default=str))


def failure(call, expected):
    """Call, which must raise `expected` (the SDK's typed exception); return the exception."""
    try:
        value = call()
    except expected as exc:
        return exc
    raise AssertionError(f"expected {expected.__name__}, got {value!r}")

'''
