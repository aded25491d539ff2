"""The README's walkthrough, run as written against the services running as processes, with a real
webhook endpoint playing the West distributor the gateway delivers to."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import subprocess
import sys
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from shared.processes import REPO_ROOT
from tests.conftest import SuiteEnvironment
from tests.e2e.harness import ProcessSystem
from tests.gateway_servers import WebhookReceiver
from tests.support import Api

PRINTED_SECRET = re.compile(r"Webhook signing secret: (whsec_\S+)")


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
    # The secret the walkthrough's connection generates is known only from its output: the receiver
    # records every request under a stand-in secret and the signatures are checked afterwards.
    west = WebhookReceiver("whsec_" + base64.b64encode(os.urandom(32)).decode())
    await west.start()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DROPSHIP_")}
    env.update(
        {
            "INTAKE": processes.urls["intake"],
            "SHIPSTATION": processes.urls["shipstation"],
            "WEST_HOOK": west.url,
            **{f"DROPSHIP_{name.upper()}_URL": url for name, url in processes.urls.items()},
        }
    )
    script = tmp_path / "walkthrough.sh"
    script.write_text("set -euo pipefail\n" + walkthrough_script())
    try:
        result = await asyncio.to_thread(
            subprocess.run, ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        # The cancellation of step 7 reaches West after the script ends: wait for both deliveries.
        received = await west.wait_for(2, timeout=30)
    finally:
        await west.stop()
    assert "1001-1" in output and "1001-2" in output
    assert '<Orders pages="' in output and "<SKU>TSHIRT-RED-M</SKU>" in output
    assert "partially_shipped" in output
    assert "1Z999AA10123456784" in output
    assert "cancelled" in output.splitlines()[-1]

    # West received the mug's vendor order (1001-2) and only the mug, then its cancellation, each
    # signed with the secret the connection printed; `dropship deliveries` showed the order sent.
    secret = PRINTED_SECRET.search(output)
    assert secret, output
    verifier = Webhook(secret.group(1))
    bodies = [verifier.verify(request.body, request.headers) for request in received]
    assert [(body["type"], body["data"]["vendor_order_number"]) for body in bodies] == [
        ("vendor_order.created", "1001-2"),
        ("vendor_order.cancelled", "1001-2"),
    ]
    assert [(line["sku"], line["quantity"]) for line in bodies[0]["data"]["lines"]] == [("MUG-BLUE", 1)]
    assert len({request.headers["webhook-id"] for request in received}) == 2
    sent = [line.split() for line in output.splitlines() if line.startswith("1001-2")]
    assert any("west" in cells and "sent" in cells for cells in sent), output
