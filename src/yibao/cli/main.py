"""`yibao` — the command line.

Every command reads its settings from YIBAO_* environment variables and
<data_dir>/yibao.toml; YIBAO_DATA_DIR selects the data directory (default ./var).
"""

from __future__ import annotations

import typer

from yibao.bootstrap import init as init_data_dir
from yibao.cli import audit as audit_cli
from yibao.cli import backup as backup_cli
from yibao.cli import bench as bench_cli
from yibao.cli import catalog as catalog_cli
from yibao.cli import clearing as clearing_cli
from yibao.cli import codes as codes_cli
from yibao.cli import db as db_cli
from yibao.cli import demo as demo_cli
from yibao.cli import enrol as enrol_cli
from yibao.cli import export as export_cli
from yibao.cli import kb as kb_cli
from yibao.cli import regions as regions_cli
from yibao.cli import replica as replica_cli
from yibao.cli import risk as risk_cli
from yibao.cli import rules as rules_cli
from yibao.cli import serve as serve_cli
from yibao.cli import simulate as simulate_cli
from yibao.cli import users as users_cli
from yibao.cli.common import console, friendly_errors, settings

app = typer.Typer(
    name="yibao",
    help=(
        "yibao 医保信息平台 — settle against the national interface, manage codes and catalogs, "
        "watch the fund T+0.\n\n"
        "Start here: `yibao init` (data directory + schema + administrator), `yibao demo` "
        "(the demo city), `yibao serve` (http://127.0.0.1:8000)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(db_cli.app, name="db")
app.add_typer(codes_cli.app, name="codes")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(enrol_cli.app, name="enrol")
app.add_typer(clearing_cli.app, name="clearing")
app.add_typer(regions_cli.app, name="regions")
app.add_typer(replica_cli.app, name="replica")
app.add_typer(kb_cli.app, name="kb")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(risk_cli.app, name="risk")
app.add_typer(export_cli.app, name="export")
app.add_typer(users_cli.app, name="users")
app.add_typer(audit_cli.app, name="audit")
serve_cli.register(app)
demo_cli.register(app)
app.add_typer(simulate_cli.app, name="simulate")
bench_cli.register(app)
backup_cli.register(app)


@app.command()
def init() -> None:
    """Create the data directory, the schema (migrations) and the first three accounts.

    三权分立: the system administrator (sysadmin, YIBAO_ADMIN_USERNAME, default 'admin'), the
    security administrator (secadmin: users, roles, keys) and the auditor (reads the audit
    trail). Each password comes from YIBAO_ADMIN_PASSWORD, YIBAO_SECADMIN_PASSWORD,
    YIBAO_AUDITOR_PASSWORD, or is generated and written (owner-readable only) to
    <data_dir>/admin-password.txt, secadmin-password.txt, auditor-password.txt.

    Idempotent: run it again to upgrade the schema; existing accounts are kept, and old role
    names are migrated (admin → sysadmin).
    """
    cfg = settings()
    with friendly_errors():
        report = init_data_dir(cfg)
    console.print(f"数据目录 data directory: {report.data_dir}")
    console.print(f"行存储 row store: {report.backend} ({report.database})")
    if report.roles_migrated:
        console.print(f"角色已迁移 roles migrated (admin → sysadmin): {report.roles_migrated}")
    for account in report.accounts:
        who = f"{account.display_name} {account.role} '{account.username}'"
        if account.created:
            where = (
                f"密码已写入 password written to {account.password_file} (仅属主可读 owner-only)"
                if account.password_file
                else f"密码取自 password from {account.env_var}"
            )
            console.print(f"{who} 已创建 created; {where}")
        else:
            console.print(f"{who} 已存在 exists (unchanged)")
    console.print("[green]完成 done.[/] Next: `yibao demo`, then `yibao serve`.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
