"""The ``bff`` command: serve, migrate, export-schema, sim, demo."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bff.config import ProductionConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ProductionConfigError as error:
        sys.exit(f"bff: refusing to start: {error}")
    except ValueError as error:  # pydantic's ValidationError wraps ProductionConfigError
        sys.exit(f"bff: refusing to start: {error}")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from bff.app import create_app

    from bff.monitor.logs import configure_logging

    settings = _settings()
    configure_logging("INFO")
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        proxy_headers=True,
        forwarded_allow_ips="*" if settings.wx_trust_headers else "127.0.0.1",
        log_level="info",
        log_config=None,  # keep the JSON formatter
    )


def cmd_migrate(args: argparse.Namespace) -> None:
    from bff.store import migrate
    from bff.store.db import Database

    async def run() -> str | None:
        db = Database(_settings().database_url)
        try:
            await migrate.upgrade(db, args.revision)
            return await migrate.current_revision(db)
        finally:
            await db.dispose()

    print(f"database at revision {asyncio.run(run())}")


def cmd_export_schema(args: argparse.Namespace) -> None:
    from bff.app import create_schema

    print(create_schema(Settings(env="development")).as_str().rstrip())


def cmd_sim(args: argparse.Namespace) -> None:
    import uvicorn

    if args.which == "erp":
        from bff.sim.erp import create_app as create_erp_app

        app = create_erp_app()
    else:
        from bff.sim.wechat import create_app as create_wechat_app

        app = create_wechat_app()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


def cmd_demo(args: argparse.Namespace) -> None:
    from bff.demo import run_demo
    from bff.monitor.logs import configure_logging

    configure_logging("WARNING")
    asyncio.run(run_demo(args.host, args.port, args.erp_port, args.wechat_port))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bff", description="惠采 BFF: GraphQL backend-for-frontend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the BFF (settings from the environment)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("--revision", default="head")
    mig.set_defaults(func=cmd_migrate)

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.set_defaults(func=cmd_export_schema)

    sim = sub.add_parser("sim", help="run a simulator alone")
    sim.add_argument("which", choices=["erp", "wechat"])
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8101)
    sim.set_defaults(func=cmd_sim)

    demo = sub.add_parser("demo", help="simulators + BFF on loopback, seeded, with a demo token")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--erp-port", type=int, default=8101)
    demo.add_argument("--wechat-port", type=int, default=8102)
    demo.set_defaults(func=cmd_demo)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
