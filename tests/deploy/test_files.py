"""The files in deploy/ agree with the service: the upload limit, the proxy count, the entry points."""

import re
from pathlib import Path

from audit_workflow import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def read(name: str) -> str:
    return (DEPLOY / name).read_text()


def environment_file() -> dict[str, str]:
    lines = [line for line in read("audit-workflow.env.example").splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_nginx_accepts_every_upload_the_service_accepts_and_little_more(tmp_path):
    app = create_app({"SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"},
                     instance_path=str(tmp_path / "instance"))
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", read("nginx/audit-workflow.conf")).group(1))
    assert app.config["MAX_CONTENT_LENGTH"] < megabytes * 1024 * 1024 <= app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024


def test_the_environment_trusts_exactly_the_one_proxy_nginx_is():
    nginx = read("nginx/audit-workflow.conf")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx  # one hop, never the client's own header
    assert environment_file()["AUDIT_WORKFLOW_TRUSTED_PROXIES"] == "1"


def test_the_units_run_gunicorn_with_the_app_and_one_separate_scheduler():
    web = read("systemd/audit-workflow-web.service")
    assert re.search(r"ExecStart=\S+/gunicorn --config \S+/deploy/gunicorn\.conf\.py 'audit_workflow:create_app\(\)'", web)
    assert re.search(r"ExecStart=\S+/audit-workflow scheduler$", read("systemd/audit-workflow-scheduler.service"), re.M)
    assert environment_file()["AUDIT_WORKFLOW_SCHEDULER_EMBEDDED"] == "false"
    for unit in ("web", "scheduler"):
        assert "EnvironmentFile=/etc/audit-workflow/env" in read(f"systemd/audit-workflow-{unit}.service")
