"""A fresh installation as its first user meets it: the first administrator, `serve`'s own
account of the state, and bad start-up input said in one line, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.settings import Settings

PROGRAM = str(Path(sys.executable).parent / "rltnet")
PASSWORD = "a-long-first-password"


def rltnet(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROGRAM, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def serve_until_ready(database_url: str, *extra: str) -> str:
    """What `rltnet serve --port 0` prints up to its ready line; the server is then stopped."""
    server = subprocess.Popen(
        [PROGRAM, "serve", "--port", "0", "--database-url", database_url, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    printed = []
    try:
        for line in server.stdout:
            printed.append(line)
            if "rltnet workspace on" in line or "error" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
    return "".join(printed)


def test_the_first_administrator_is_created_from_stdin_and_can_log_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    done = rltnet(
        "users",
        "create",
        "--role",
        "admin",
        "--username",
        "root",
        "--database-url",
        url,
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    settings = Settings(database_url=url)
    platform = Platform.start(settings)
    try:
        client = TestClient(create_app(settings, platform))
        login = client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
        assert login.status_code == 200, login.text
        assert login.json()["role"] == "admin"
        token = {"Authorization": f"Bearer {login.json()['access_token']}"}
        trail = client.get("/api/v1/audit", params={"action": "create_user"}, headers=token).json()["items"]
        assert [entry["username"] for entry in trail] == ["rltnet-cli"]
        assert "password_hash" not in trail[0]["after"]
    finally:
        platform.close()


def test_a_short_password_or_a_centre_role_without_a_centre_is_refused_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    short = rltnet("users", "create", "--username", "root", "--database-url", url, stdin="short\n")
    assert short.returncode == 1
    assert "shorter than 12" in short.stderr and "Traceback" not in short.stderr
    no_centre = rltnet(
        "users",
        "create",
        "--role",
        "coordinator",
        "--username",
        "coord",
        "--database-url",
        url,
        stdin=PASSWORD + "\n",
    )
    assert no_centre.returncode == 1
    assert "give centre_id" in no_centre.stderr and "Traceback" not in no_centre.stderr


def test_serve_on_a_fresh_database_says_there_are_no_users_and_how_to_make_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    printed = serve_until_ready(url)
    assert "no users yet: create one with `rltnet users create --role admin" in printed
    assert "demo user" not in printed
    assert "http://127.0.0.1:0/" not in printed  # the port taken, not the 0 asked for
    rltnet("users", "create", "--username", "root", "--database-url", url, stdin=PASSWORD + "\n")
    assert "log in with your account (1 on this database)" in serve_until_ready(url)


def test_demo_is_refused_in_production_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    production = {"RLTNET_MODE": "production", "RLTNET_SECRET_KEY": "k" * 20 + "x9Q" * 8}
    done = rltnet("serve", "--port", "0", "--database-url", url, "--demo", env=production)
    assert done.returncode == 1
    assert "--demo is refused in production mode" in done.stderr
    assert "rltnet workspace on" not in done.stdout


def test_a_busy_port_is_said_before_anything_claims_to_serve(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = rltnet("serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "choose another --port" in done.stderr
    assert "rltnet workspace on" not in done.stdout
    assert "Traceback" not in done.stderr


def test_an_unreachable_or_unreadable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    # port 1 on this machine: nothing listens there, so the connection is refused at once
    started = time.monotonic()
    unreachable = rltnet(
        "serve", "--port", "0", "--database-url", "postgresql://someone:s3cret@127.0.0.1:1/rltnet"
    )
    assert unreachable.returncode == 1, unreachable.stdout
    assert "cannot open the database" in unreachable.stderr and "RLTNET_DATABASE_URL" in unreachable.stderr
    assert "s3cret" not in unreachable.stderr and "Traceback" not in unreachable.stderr
    assert "rltnet workspace on" not in unreachable.stdout
    assert time.monotonic() - started < 60
    for url in ("mysql://x@y/z", "postgresql://x@y:notaport/z"):
        refused = rltnet("serve", "--port", "0", "--database-url", url)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    unwritable = rltnet("users", "list", "--database-url", f"sqlite:///{blocked / 'db.sqlite'}")
    assert unwritable.returncode == 1 and "Traceback" not in unwritable.stderr, unwritable.stderr


def test_an_impossible_date_in_a_network_file_names_the_field(tmp_path: Path) -> None:
    bundled = Path(__file__).parents[2] / "src" / "rltnet" / "data" / "networks" / "england.yaml"
    text = bundled.read_text(encoding="utf-8")
    assert "first_start: 2026-01-05," in text
    network = tmp_path / "broken.yaml"
    network.write_text(
        text.replace("first_start: 2026-01-05,", "first_start: 2027-02-30,", 1), encoding="utf-8"
    )
    shown = rltnet("network", "show", str(network))
    assert shown.returncode == 1
    assert "2027-02-30" in shown.stderr and "Traceback" not in shown.stderr
    served = rltnet(
        "serve",
        "--port",
        "0",
        "--network",
        str(network),
        "--database-url",
        f"sqlite:///{tmp_path / 'x.sqlite'}",
    )
    assert served.returncode == 1
    assert "2027-02-30" in served.stderr and "Traceback" not in served.stderr


def test_network_show_warns_of_products_a_centre_offers_but_cannot_receive() -> None:
    shown = rltnet("network", "show", "england")
    assert shown.returncode == 0, shown.stderr
    warnings = [line for line in shown.stdout.splitlines() if line.startswith("warning:")]
    assert any(line.startswith("warning: ra223-dichloride is offered at 5 centre(s)") for line in warnings)
    assert not any("lu177" in line for line in warnings)  # the sites at Ivrea and Zaragoza make both
