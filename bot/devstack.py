"""Start the production processes locally, for crash tests and benchmarks.

`DevStack` runs the Procfile's `web` and `worker` lines exactly as a Procfile runner would (configured
by the environment alone), against a private `redis-server` with AOF persistence, a fresh PostgreSQL
database migrated with `kawasaki-bot db upgrade`, and the LINE emulator. Processes can be killed
(SIGKILL) and restarted, Redis restarted, and PostgreSQL made unreachable through a small TCP proxy.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text

from bot.config import PROJECT_ROOT, normalize_database_url

SECRET = "devstack-channel-secret"
TOKEN = "devstack-channel-access-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_command(name: str) -> str:
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(name)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


class TcpProxy:
    """Forwards a local port to PostgreSQL; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._open = threading.Event()
        self._open.set()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for s in self._conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self._conns.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.cut()
        self._server.close()


class DevStack:
    def __init__(
        self,
        workdir: Path,
        *,
        pg_server_url: str,
        web_workers: int = 2,
        worker_concurrency: int = 4,
        lease_ttl_ms: int = 3000,
        emulator_in_process: bool = True,
        pg_proxy: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pg_server_url = normalize_database_url(pg_server_url)
        self.web_workers = web_workers
        self.worker_concurrency = worker_concurrency
        self.lease_ttl_ms = lease_ttl_ms
        self.emulator_in_process = emulator_in_process
        self.use_pg_proxy = pg_proxy
        self.extra_env = extra_env or {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.redis_port = free_port()
        self.web_port = free_port()
        self.emulator_port = free_port()
        self.db_name = f"kbs_{uuid.uuid4().hex[:10]}"
        self.emulator = None  # in-process EmulatorHandle
        self.pg_proxy: TcpProxy | None = None
        self.logs: dict[str, Path] = {}

    # -- urls ---------------------------------------------------------------
    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def database_url(self) -> str:
        base = self.pg_server_url.rsplit("/", 1)[0]
        if self.pg_proxy is not None:
            host_part = base.split("@", 1)
            base = f"{host_part[0]}@127.0.0.1:{self.pg_proxy.port}" if len(host_part) == 2 else base
        return f"{base}/{self.db_name}"

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/callback"

    @property
    def emulator_url(self) -> str:
        return self.emulator.url if self.emulator else f"http://127.0.0.1:{self.emulator_port}"

    def env(self) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        env = {
            **os.environ,
            "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE_URL": self.emulator_url,
            "LINE_DATA_API_BASE_URL": self.emulator_url,
            "PORT": str(self.web_port),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": str(self.web_workers),
            "KB_WORKER_CONCURRENCY": str(self.worker_concurrency),
            "KB_LEASE_TTL_MS": str(self.lease_ttl_ms),
            "KB_VAR_DIR": str(self.workdir / "var"),
            "LOG_LEVEL": os.environ.get("KB_STACK_LOG_LEVEL", "WARNING"),
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.extra_env)
        return env

    # -- services -------------------------------------------------------------
    def start_redis(self) -> None:
        redis_server = shutil.which("redis-server")
        if not redis_server:
            raise RuntimeError("redis-server is not installed")
        data = self.workdir / "redis"
        data.mkdir(exist_ok=True)
        cmd = [redis_server, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(data),
               "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
               "--loglevel", "warning"]
        self._spawn("redis", cmd)
        client = redis.Redis(port=self.redis_port)
        wait_until(lambda: client.ping(), 10, "redis-server")

    def restart_redis(self, down_s: float = 1.0) -> None:
        """A clean restart (SHUTDOWN flushes the AOF), as an operator or a platform would do it."""
        with contextlib.suppress(redis.RedisError):
            redis.Redis(port=self.redis_port).shutdown(nosave=False)
        self.procs["redis"].wait(10)
        time.sleep(down_s)
        self.start_redis()

    def create_database(self) -> None:
        admin = create_engine(self.pg_server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        if self.use_pg_proxy:
            port = int(self.pg_server_url.rsplit(":", 1)[1].split("/")[0])
            self.pg_proxy = TcpProxy(port)
        subprocess.run(["kawasaki-bot", "db", "upgrade"], env=self.env(), check=True,
                       capture_output=True, timeout=120)

    def drop_database(self) -> None:
        admin = create_engine(self.pg_server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        admin.dispose()

    def start_emulator(self, reply_token_ttl: float = 60.0) -> None:
        if self.emulator_in_process:
            from integrations.line.emulator import run_emulator_in_thread

            self.emulator = run_emulator_in_thread(channel_access_token=TOKEN, reply_token_ttl=reply_token_ttl)
        else:
            cmd = ["kawasaki-bot", "emulator", "--port", str(self.emulator_port),
                   "--reply-token-ttl", str(reply_token_ttl)]
            self._spawn("emulator", cmd)
            wait_until(lambda: requests.get(self.emulator_url + "/_emulator/info", timeout=1).ok, 20, "emulator")

    # -- Procfile processes --------------------------------------------------------
    def start_web(self, timeout: float = 60) -> None:
        self._spawn("web", ["sh", "-c", "exec " + procfile_command("web")])
        wait_until(lambda: requests.get(f"http://127.0.0.1:{self.web_port}/healthz", timeout=1).ok, timeout, "web")

    def start_worker(self, name: str = "worker", timeout: float = 180) -> None:
        before = self.live_consumers()  # a killed worker's heartbeats linger until they expire
        self._spawn(name, ["sh", "-c", "exec " + procfile_command("worker")])
        # One consumer per worker process (its KB_WORKER_CONCURRENCY threads share it).
        wait_until(lambda: len(self.live_consumers() - before) >= 1, timeout, name, 0.1)

    def live_consumers(self) -> set[bytes]:
        now = int(time.time() * 1000)
        try:
            return set(redis.Redis(port=self.redis_port).zrangebyscore("kb:consumers", now, "+inf"))
        except redis.RedisError:
            return set()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(15)

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log_path = self.workdir / f"{name}.log"
        self.logs[name] = log_path
        log = open(log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.procs[name] = subprocess.Popen(cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                            cwd=str(PROJECT_ROOT), start_new_session=True)

    def start(self) -> DevStack:
        self.start_redis()
        self.create_database()
        self.start_emulator()
        self.start_web()
        self.start_worker()
        return self

    def stop(self) -> None:
        for name in list(self.procs):
            if self.procs[name].poll() is None:
                self.kill(name, signal.SIGTERM if name != "redis" else signal.SIGKILL)
        if self.emulator is not None:
            self.emulator.stop()
        if self.pg_proxy is not None:
            self.pg_proxy.close()
        with contextlib.suppress(Exception):
            self.drop_database()

    def describe(self) -> str:
        return " ".join(shlex.quote(c) for c in (procfile_command("web"), procfile_command("worker")))
