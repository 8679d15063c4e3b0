"""The ``bff`` command: serve, migrate, export-schema, sim, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError

from bff.core.config import ProductionConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ProductionConfigError as error:
        sys.exit(f"bff: refusing to start: {error}")
    except ValidationError as error:  # wraps ProductionConfigError; never print the inputs (secrets)
        messages = "; ".join(str(e["msg"]) for e in error.errors(include_url=False, include_input=False))
        sys.exit(f"bff: refusing to start: {messages}")


def _migrate(settings: Settings, revision: str) -> str | None:
    """Upgrade the database (under a lock on MySQL: replicas may start together); its revision."""
    from bff.store import migrate
    from bff.store.db import Database

    async def run() -> str | None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db, revision)
            return await migrate.current_revision(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from bff.core.gc_tuning import tune_for_serving
    from bff.monitor.logs import configure_logging
    from bff.web.app import create_app
    from bff.web.edge import uvicorn_options

    settings = _settings()
    configure_logging("INFO")
    if args.migrate:  # the image's command: one process, so SIGTERM reaches the server (PID 1 is tini)
        logging.getLogger("bff.migrate").info("database at revision %s", _migrate(settings, "head"))
    delivery_log = None
    if args.wechat_sim:
        if settings.is_production:
            sys.exit("bff: refusing to start: --wechat-sim is for a WeChat simulator, never production")
        from bff.notify.reconcile import SimulatorDeliveryLog

        delivery_log = SimulatorDeliveryLog(settings.wx_base_url)
    app = create_app(settings, delivery_log=delivery_log)
    tune_for_serving(settings.gc_young_threshold)  # after the app is built: its objects are frozen
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        **uvicorn_options(settings),  # header deadline and size; X-Forwarded-For: BFF_TRUSTED_PROXIES, in the app
        log_level="info",
        log_config=None,  # keep the JSON formatter
        access_log=False,  # bff.access logs each request by route, never its query string (keywords)
        # SIGTERM: done within the grace period. uvicorn's hint says int, but it hands the value
        # to asyncio.wait_for, which takes any seconds: a fractional grace is honoured.
        timeout_graceful_shutdown=settings.shutdown_grace_s,  # type: ignore[arg-type]
    )


def cmd_migrate(args: argparse.Namespace) -> None:
    print(f"database at revision {_migrate(_settings(), args.revision)}")


def cmd_export_schema(args: argparse.Namespace) -> None:
    from bff.web.app import create_schema

    print(create_schema(Settings(env="development")).as_str().rstrip())


def cmd_documents(args: argparse.Namespace) -> None:
    """The trusted-documents manifest and the mini program's id table, from their sources."""
    from bff.web import documents

    manifest = documents.build_manifest()
    outputs = {documents.MANIFEST: documents.manifest_json(manifest), documents.MINIPROGRAM_IDS: documents.ids_module(manifest)}
    if args.write:
        for path, text in outputs.items():
            path.write_text(text, encoding="utf-8")
        print(f"{len(manifest)} documents registered")
    elif args.check:
        stale = [str(p) for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        if stale:
            sys.exit("stale (run `bff documents --write`): " + ", ".join(stale))
    else:
        print(documents.manifest_json(manifest), end="")


def cmd_sim(args: argparse.Namespace) -> None:
    import uvicorn

    if args.which == "erp":
        from bff.sim.erp import ErpSimConfig
        from bff.sim.erp import create_app as create_erp_app
        from bff.sim.erp.dialect import Dialect

        try:
            dialect = Dialect.from_pairs(args.dialect)
        except ValueError as error:
            sys.exit(f"bff sim erp: {error}")
        app = create_erp_app(config=ErpSimConfig(dialect=dialect))
    elif args.dialect:
        sys.exit(f"bff sim {args.which}: --dialect is for the ERP simulator")
    elif args.which == "tracking":
        from bff.sim.tracking import create_app as create_tracking_app

        app = create_tracking_app()
    else:
        from bff.sim.wechat import create_app as create_wechat_app

        app = create_wechat_app()
    port = args.port or {"erp": 8101, "wechat": 8102, "tracking": 8103}[args.which]
    uvicorn.run(app, host=args.host, port=port, log_level="info")


def cmd_erp_check(args: argparse.Namespace) -> None:
    from bff.erp.check import check
    from bff.services import erp_config

    settings = _settings()
    if not settings.erp_account:
        sys.exit("bff erp check: set BFF_ERP_ACCOUNT and BFF_ERP_PASSWORD (the service account)")
    report = asyncio.run(check(erp_config(settings, settings.erp_base_url), args.customer))
    print(report.as_json() if args.json else report.as_table())
    sys.exit(0 if report.ok else 1)


def cmd_demo(args: argparse.Namespace) -> None:
    from bff.demo import run_demo
    from bff.monitor.logs import configure_logging

    configure_logging("WARNING")
    asyncio.run(run_demo(args.host, args.port, args.erp_port, args.wechat_port, args.tracking_port))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bff", description="惠采 BFF: GraphQL backend-for-frontend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the BFF (settings from the environment)")
    serve.add_argument("--host", help="listening address (default: BFF_HOST)")
    serve.add_argument("--port", type=int, help="listening port (default: PORT)")
    serve.add_argument(
        "--migrate", action="store_true",
        help="apply the database migrations first (bff migrate; under a lock on MySQL, so replicas may start together)",
    )
    serve.add_argument(
        "--wechat-sim", action="store_true",
        help="BFF_WX_BASE_URL is the WeChat simulator: a message interrupted mid-send is settled from its "
             "delivery log (sent, or sent again) instead of as unknown; refused in production",
    )
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("--revision", default="head", help="alembic revision to upgrade to (default: head)")
    mig.set_defaults(func=cmd_migrate)

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.set_defaults(func=cmd_export_schema)

    docs = sub.add_parser("documents", help="print (or --write, --check) the trusted-documents manifest")
    group = docs.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="write bff/web/persisted-documents.json and miniprogram ids.ts")
    group.add_argument("--check", action="store_true", help="exit 1 when either file is stale")
    docs.set_defaults(func=cmd_documents)

    sim = sub.add_parser("sim", help="run a simulator alone")
    sim.add_argument("which", choices=["erp", "wechat", "tracking"], help="which simulator")
    sim.add_argument("--host", default="127.0.0.1", help="listening address (default: %(default)s)")
    sim.add_argument("--port", type=int,
                     help="listening port (default: 8101 for erp, 8102 for wechat, 8103 for tracking, as in the demo)")
    sim.add_argument(
        "--dialect", action="append", default=[], metavar="KEY=VALUE",
        help="ERP protocol dialect, repeatable (e.g. attachments=string); see docs/simulators-erp.md",
    )
    sim.set_defaults(func=cmd_sim)

    erp = sub.add_parser("erp", help="the Snowbeasts ERP")
    erp_sub = erp.add_subparsers(dest="erp_command", required=True)
    erp_check = erp_sub.add_parser(
        "check", help="read-only: which protocol assumptions and guessed shapes hold on the ERP (prints no record value)"
    )
    erp_check.add_argument("--customer", help="an ERP customer id with orders and shipments (default: the newest order's)")
    erp_check.add_argument("--json", action="store_true", help="machine-readable output")
    erp_check.set_defaults(func=cmd_erp_check)

    demo = sub.add_parser("demo", help="simulators + BFF on loopback, seeded, with a demo token")
    demo.add_argument("--host", default="127.0.0.1", help="listening address of all four (default: %(default)s)")
    demo.add_argument("--port", type=int, default=8000, help="the BFF's port (default: %(default)s)")
    demo.add_argument("--erp-port", type=int, default=8101, help="the ERP simulator's port (default: %(default)s)")
    demo.add_argument("--wechat-port", type=int, default=8102, help="the WeChat simulator's port (default: %(default)s)")
    demo.add_argument("--tracking-port", type=int, default=8103,
                      help="the parcel-tracking simulator's port (default: %(default)s)")
    demo.set_defaults(func=cmd_demo)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
