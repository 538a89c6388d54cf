"""`kawasaki-bot`: the command line (contract in ARCHITECTURE.md)."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from dataclasses import replace

import click

from bot.config import load_settings
from bot.logging_setup import setup_logging

log = logging.getLogger(__name__)

# Sub-commands that live next to the capability they drive, imported only when used.
LAZY_COMMANDS = {
    "route": "bot.routing.cli:route_command",
    "nlu": "bot.nlu.cli:nlu_group",
    "catalog": "bot.catalog.cli:catalog",
    "dialogs": "bot.forms.cli:dialogs",
    "rasa": "integrations.rasa.cli:rasa",
    "qr": "bot.qr.cli:qr",
    "facilities": "bot.qr.cli:facilities_group",
    "report": "bot.analytics.cli:report_command",
    "staff": "bot.staff.cli:staff",
    "submissions": "bot.submissions.cli:submissions",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup)
def main() -> None:
    """川崎市 LINE 手続き案内ボット (kawasaki-line-intake)."""


@main.group()
def db() -> None:
    """Database commands."""


def _upgrade(url: str) -> None:
    from bot.storage.migrate import upgrade

    upgrade(url)


def _upgrade_in_child(url: str) -> None:
    """Migrate in a short-lived child: Alembic and its templates would stay in `serve`'s memory (~25 MB)."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=_upgrade, args=(url,), name="db-upgrade")
    child.start()
    child.join()
    if child.exitcode != 0:
        raise click.ClickException("データベースの更新（db upgrade）に失敗しました。ログを確認してください。")


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from bot.storage.migrate import upgrade

    setup_logging()
    settings = load_settings()
    upgrade(settings.database_url)
    click.echo("database is up to date")


@main.command()
@click.option("--concurrency", type=int, default=None, help="Consumer threads (default KB_WORKER_CONCURRENCY or 4).")
def worker(concurrency: int | None) -> None:
    """Consume the queue (needs REDIS_URL; the Procfile `worker`)."""
    from bot.services import Services
    from bot.worker import WorkerRuntime

    setup_logging()
    settings = load_settings()
    if settings.embedded_redis:
        raise click.ClickException("REDIS_URL is required for a separate worker (use `kawasaki-bot serve` alone)")
    if settings.worker_nice > 0:
        os.nice(settings.worker_nice)
    services = Services(settings)
    WorkerRuntime(services, concurrency).run_forever()
    services.close()


@main.command()
@click.option("--port", type=int, default=None, help="Port (default $PORT or 8000).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--chat/--no-chat", default=False, help="Also open a terminal chat with the bot in this window.")
def serve(port: int | None, host: str, chat: bool) -> None:
    """Run web + an in-process worker (the single-process embedded mode)."""
    from werkzeug.serving import make_server

    from bot.app import create_app
    from bot.services import Services
    from bot.worker import WorkerRuntime

    settings = load_settings()
    if port is not None:
        settings = replace(settings, port=port)
    log_file = None
    if chat:
        # Keep the terminal for the conversation; logs go to a file.
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        log_file = open(settings.var_dir / "serve.log", "a", encoding="utf-8")  # noqa: SIM115
    setup_logging(stream=log_file)

    emulator = None
    if settings.dev_line and "LINE_API_BASE_URL" not in os.environ:
        from integrations.line.emulator import run_emulator_in_thread

        emulator = run_emulator_in_thread(
            host, int(os.environ.get("KB_EMULATOR_PORT", settings.port + 1)),
            channel_access_token=settings.channel_access_token,
        )
        settings = replace(settings, line_api_base_url=emulator.url, line_data_api_base_url=emulator.url)
    _upgrade_in_child(settings.database_url)
    services = Services(settings)
    app = create_app(settings, services)
    runtime = WorkerRuntime(services, concurrency=2)
    runtime.start()
    server = make_server(host, settings.port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    callback = f"http://{host}:{settings.port}/callback"
    banner = [
        f"kawasaki-bot: webhook {callback}",
        f"health: http://{host}:{settings.port}/healthz",
        f"simulator (LINE view in the browser): http://{host}:{settings.port}/simulator/",
        f"staff console: http://{host}:{settings.port}/admin/  (create a user: kawasaki-bot staff create-user NAME --role admin)",
    ]
    if emulator:
        banner.append(f"LINE emulator (stands in for LINE): {emulator.url}")
    click.echo("\n".join(banner), err=True)
    try:
        if chat and emulator:
            from integrations.line.terminal_chat import run_chat

            run_chat(callback, emulator.url, settings.channel_secret, "U" + "0" * 31 + "1")
        else:
            while True:
                time.sleep(3600)
    except (KeyboardInterrupt, EOFError):
        pass
    finally:
        server.shutdown()
        runtime.stop()
        services.close()
        if emulator:
            emulator.stop()
        if log_file:
            log_file.close()


@main.command()
@click.option("--port", type=int, default=None, help="Port of the bot (default $PORT or 8000).")
@click.option("--emulator-url", default=None, help="LINE emulator URL (default http://127.0.0.1:PORT+1).")
@click.option("--user", "user_id", default="U" + "0" * 31 + "2", show_default=True, help="LINE user id to chat as.")
def chat(port: int | None, emulator_url: str | None, user_id: str) -> None:
    """Chat with a running `kawasaki-bot serve` through the real webhook path."""
    from integrations.line.terminal_chat import run_chat

    settings = load_settings()
    port = port or settings.port
    run_chat(f"http://127.0.0.1:{port}/callback", emulator_url or f"http://127.0.0.1:{port + 1}",
             settings.channel_secret, user_id)


@main.command()
@click.option("--port", type=int, default=8081, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--reply-token-ttl", type=float, default=60.0, show_default=True)
def emulator(port: int, host: str, reply_token_ttl: float) -> None:
    """Run the LINE Messaging API emulator (for tests, benchmarks and local use)."""
    from integrations.line.emulator import run_emulator

    setup_logging()
    settings = load_settings()
    run_emulator(host, port, channel_access_token=settings.channel_access_token, reply_token_ttl=reply_token_ttl)


if __name__ == "__main__":
    sys.exit(main())
