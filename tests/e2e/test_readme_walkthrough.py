"""The README's walkthrough, run as written against the services running as processes."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from shared.processes import REPO_ROOT
from tests.conftest import SuiteEnvironment
from tests.e2e.harness import ProcessSystem
from tests.support import Api


def walkthrough_script() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"<!-- walkthrough -->\s*```bash\n(.*?)```\s*<!-- /walkthrough -->", readme, re.S)
    assert match, "README.md has no walkthrough block"
    return match.group(1)


async def test_readme_walkthrough_runs_as_written(
    processes: ProcessSystem, process_api: Api, test_env: SuiteEnvironment, tmp_path: Path
) -> None:
    # The walkthrough reads the admin token from .dropship/admin-token and uses .venv/bin from $PWD.
    (tmp_path / ".dropship").mkdir()
    (tmp_path / ".dropship" / "admin-token").write_text(test_env.admin_token + "\n")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {key: value for key, value in os.environ.items() if not key.startswith("DROPSHIP_")}
    env.update(
        {
            "INTAKE": processes.urls["intake"],
            "SHIPSTATION": processes.urls["shipstation"],
            **{f"DROPSHIP_{name.upper()}_URL": url for name, url in processes.urls.items()},
        }
    )
    script = tmp_path / "walkthrough.sh"
    script.write_text("set -euo pipefail\n" + walkthrough_script())
    result = await asyncio.to_thread(
        subprocess.run, ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1001-1" in output and "1001-2" in output
    assert '<Orders pages="' in output and "<SKU>TSHIRT-RED-M</SKU>" in output
    assert "partially_shipped" in output
    assert "1Z999AA10123456784" in output
    assert "cancelled" in output.splitlines()[-1]
