"""The README's first command: `bff demo` comes up, prints a token, and `me` answers with it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx


def test_bff_demo_prints_a_token_that_names_the_demo_user_and_company(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bff.cli", "demo", "--port", "0", "--erp-port", "0", "--wechat-port", "0"],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("DEMO_TOKEN="):
                break
        output = "".join(lines)
        token_line = [line for line in lines if line.startswith("DEMO_TOKEN=")]
        assert token_line, output
        token = token_line[0].strip().split("=", 1)[1]
        graphiql = re.search(r"GraphiQL\s+(http://\S+)/graphql", output)
        assert graphiql, output
        answer = httpx.post(
            graphiql.group(1) + "/graphql",
            json={"query": "{ me { nickname bound binding { company { name } } } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        me = answer["data"]["me"]
        assert me["bound"] is True and me["nickname"] == "演示采购员"
        company = re.search(r"Demo company\s+(\S+)", output)
        assert company and me["binding"]["company"]["name"] == company.group(1)
        assert os.path.exists(os.path.join(str(tmp_path), "var", "demo.sqlite3"))
        # The way into /admin (issue 21: the demo printed none): the printed token signs in.
        admin = re.search(r"Admin dashboard\s+(http://\S+/admin)", output)
        admin_token = [line.strip().split("=", 1)[1] for line in lines if line.startswith("ADMIN_TOKEN=")]
        assert admin and admin_token, output
        signed_in = httpx.post(admin.group(1) + "/login", data={"token": admin_token[0]}, timeout=10)
        assert signed_in.status_code == 303 and "bff_admin=" in signed_in.headers["set-cookie"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    assert process.returncode == 0
