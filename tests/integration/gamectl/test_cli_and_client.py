"""gamectl and gamesclient against real gRPC servers over real TLS.

The targets are the real catalog (called with the dev gateway certificate, which it lets read and
write; it ignores the bearer key) and a small stand-in gateway on TLS without client certificates that
records what callers send. Both go through the real transport, paging,
tables, --json and error output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from gamectl.__main__ import main
from gamectl.certs import DevPki
from gamectl.net import free_port
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from gamesclient import connect, error_details, from_suite
from tests.fixtures.catalog import RunningCatalog

REPO = Path(__file__).resolve().parents[3]


def write_suite(root: Path, pki: DevPki, gateway: str, *, relative: bool = False) -> Path:
    """A suite.json pointing its gateway at `gateway`, presenting the dev gateway certificate."""
    cert = pki.certs["gateway"]
    files = {"ca": pki.ca_file, "client_cert": cert.cert_file, "client_key": cert.key_file}
    if relative:
        certs = root / ".local" / "certs"
        certs.mkdir(parents=True)
        for name, path in files.items():
            (certs / path.name).write_bytes(path.read_bytes())
            files[name] = Path(".local/certs") / path.name
    suite = root / ".local" / "suite.json"
    suite.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "gateway": gateway,
        **{k: str(v) for k, v in files.items()},
        "api_keys": {"admin": "admin-key", "reader": "reader-key"},
    }
    suite.write_text(json.dumps(data))
    return suite


@pytest.fixture
def suite(tmp_path: Path, dev_pki: DevPki, catalog: RunningCatalog) -> Path:
    return write_suite(tmp_path, dev_pki, catalog.target)


def gamectl(capsys: pytest.CaptureFixture[str], suite: Path, *argv: str) -> tuple[int, str, str]:
    """Run gamectl in this process with the suite file; exit code, stdout, stderr."""
    capsys.readouterr()
    command, sub, *rest = argv
    code = main([command, sub, "--suite", str(suite), *rest])
    out, err = capsys.readouterr()
    return code, out, err


def add_game(suite: Path, n: int, **overrides: object) -> pb.Game:
    values: dict[str, object] = {
        "display_name": f"Game {n}",
        "platform": pb.PLATFORM_IOS,
        "store_id": f"store-{n}",
        "publisher_name": "Example Games",
        **overrides,
    }
    with from_suite(suite, key="admin") as games:
        request = pb.CreateGameRequest(game=pb.Game(**values), request_id=str(uuid.uuid4()))  # type: ignore[arg-type]
        return games.catalog.CreateGame(request).game


def test_client_pages_through_lists_and_searches(suite: Path) -> None:
    created = [add_game(suite, n) for n in range(5)]
    created.append(add_game(suite, 5, display_name="Pokémon GO", platform=pb.PLATFORM_ANDROID))
    with from_suite(suite, key="reader") as games:
        assert [g.name for g in games.iter_games(page_size=2)] == [g.name for g in created]
        assert [g.display_name for g in games.iter_games("pokemon", page_size=1)] == ["Pokémon GO"]
        assert [g.name for g in games.iter_games(platform="android")] == [created[-1].name]
        assert list(games.iter_imports()) == []
        with pytest.raises(grpc.RpcError) as missing:
            games.catalog.GetGame(pb.GetGameRequest(name="games/999999"))
    assert error_details(missing.value).code == grpc.StatusCode.NOT_FOUND


def test_games_commands_print_tables_json_and_one_line_errors(
    suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = gamectl(
        capsys,
        suite,
        *("games", "create", "--display-name", "Pokémon GO", "--platform", "ios", "--store-id", "12"),
        *("--rating", "4.5", "--category", "Games", "--category", "Adventure", "--json"),
    )
    assert (code, err) == (0, "")
    game = json.loads(out)
    assert (game["displayName"], game["rating"], game["categories"]) == (
        "Pokémon GO",
        4.5,
        ["Games", "Adventure"],
    )
    name, etag = game["name"], game["etag"]

    code, out, err = gamectl(capsys, suite, "games", "search", "pokemon")
    header, row = out.splitlines()
    assert header.split()[:3] == ["NAME", "TITLE", "PLATFORM"]
    assert row.split() == [name, "Pokémon", "GO", "ios", "12", "-", "4.5", "-"]
    assert header.index("RATING") + len("RATING") == row.index("4.5") + len("4.5"), "numbers align right"

    code, out, _ = gamectl(capsys, suite, "games", "get", name.removeprefix("games/"))
    assert code == 0
    assert f"etag              {etag}" in out.splitlines()

    code, out, err = gamectl(capsys, suite, "games", "update", name, "--etag", "stale", "--rating", "4")
    assert (code, out) == (1, "")
    assert err.startswith("error: ABORTED: ")
    assert len(err.splitlines()) == 1

    code, out, err = gamectl(
        capsys, suite, "games", "update", name, "--etag", etag, "--rating", "4", "--json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["rating"] == 4

    code, out, err = gamectl(capsys, suite, "games", "delete", name)
    assert (code, out, err) == (0, f"deleted {name}\n", "")
    code, out, err = gamectl(capsys, suite, "games", "get", name)
    assert code == 1
    assert out == ""
    assert err.startswith("error: NOT_FOUND: ")
    assert "Traceback" not in err


def test_invalid_input_shows_each_field_violation(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = gamectl(capsys, suite, "games", "create", "--platform", "ios", "--rating", "9")
    assert (code, out) == (1, "")
    first, *violations = err.splitlines()
    assert first.startswith("error: INVALID_ARGUMENT: ")
    assert "  game.display_name: is required" in violations
    assert "  game.store_id: is required" in violations
    assert any(v.startswith("  game.rating: ") for v in violations)


def test_update_from_json_changes_only_settable_fields(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = add_game(suite, 1).name
    _, out, _ = gamectl(capsys, suite, "games", "get", name, "--json")
    edited = json.loads(out) | {"displayName": "Renamed", "categories": ["Puzzle"]}
    (tmp_path / "game.json").write_text(json.dumps(edited))
    code, out, err = gamectl(
        capsys, suite, "games", "update", name, "--from-json", str(tmp_path / "game.json")
    )
    assert (code, err) == (0, "")
    assert "title             Renamed" in out.splitlines()
    code, _, err = gamectl(capsys, suite, "games", "update", name, "--from-json", str(tmp_path / "game.json"))
    assert code == 1, "the etag in the file is stale now"
    assert err.startswith("error: ABORTED: ")
    code, _, err = gamectl(capsys, suite, "games", "update", name)
    assert (code, err) == (1, "error: nothing to change: give at least one field option or --from-json\n")


def test_limit_pages_and_says_when_there_is_more(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(3):
        add_game(suite, n)
    code, out, err = gamectl(capsys, suite, "games", "list", "--limit", "2")
    assert code == 0
    assert len(out.splitlines()) == 3
    assert err == "(first 2 games shown; --limit 0 shows all)\n"
    code, out, err = gamectl(capsys, suite, "games", "list", "--limit", "0", "--json")
    assert (code, err, len(json.loads(out))) == (0, "", 3)
    code, out, err = gamectl(capsys, suite, "imports", "list")
    assert (code, out, err) == (0, "no imports\n", "")


def test_unreachable_target_and_missing_suite_are_one_line(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = gamectl(capsys, suite, "games", "list", "--target", f"127.0.0.1:{free_port()}")
    assert (code, out) == (1, "")
    assert err.startswith("error: UNAVAILABLE: ")
    assert len(err.splitlines()) == 1
    code, _, err = gamectl(capsys, tmp_path / "none.json", "ingest", "runs")
    assert code == 1
    assert err.startswith("error: no suite file at ")


def test_gamectl_process_reads_the_suite_under_its_root(
    tmp_path: Path, dev_pki: DevPki, catalog: RunningCatalog
) -> None:
    suite = write_suite(tmp_path, dev_pki, catalog.target, relative=True)
    add_game(suite, 1, display_name="Pokémon GO")
    command = [sys.executable, "-m", "gamectl", "--root", str(tmp_path)]
    done = subprocess.run(
        [*command, "games", "search", "pokémon", "--json"], capture_output=True, text=True, cwd=REPO
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert [g["displayName"] for g in json.loads(done.stdout)] == ["Pokémon GO"]
    done = subprocess.run([*command, "games", "get", "games/0"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1
    assert done.stderr.startswith("error: INVALID_ARGUMENT: ")
    assert "Traceback" not in done.stderr


class StandInGateway(pb_grpc.CatalogServiceServicer):
    """Records each call's metadata and deadline; fails the first ListGames with UNAVAILABLE."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], float | None]] = []
        self._lock = threading.Lock()

    def _record(self, method: str, context: grpc.ServicerContext) -> int:
        metadata = {k: str(v) for k, v in context.invocation_metadata()}
        with self._lock:
            self.calls.append((method, metadata, context.time_remaining()))
            return sum(1 for m, _, _ in self.calls if m == method)

    def ListGames(self, request: pb.ListGamesRequest, context: grpc.ServicerContext) -> pb.ListGamesResponse:
        if self._record("ListGames", context) == 1:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        context.set_compression(grpc.Compression.Gzip)
        return pb.ListGamesResponse(games=[pb.Game(name="games/1", display_name="x" * 10_000)])

    def CreateGame(
        self, request: pb.CreateGameRequest, context: grpc.ServicerContext
    ) -> pb.CreateGameResponse:
        self._record("CreateGame", context)
        context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")


@pytest.fixture
def stand_in(dev_pki: DevPki) -> Iterator[tuple[str, StandInGateway]]:
    """A TLS server (no client certificate asked) serving the stand-in CatalogService."""
    cert = dev_pki.certs["gateway"]
    credentials = grpc.ssl_server_credentials(
        [(cert.key_file.read_bytes(), cert.cert_file.read_bytes())], require_client_auth=False
    )
    servicer = StandInGateway()  # type: ignore[abstract]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_CatalogServiceServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(0)


def test_client_sends_the_key_a_deadline_and_retries_only_reads(
    stand_in: tuple[str, StandInGateway], dev_pki: DevPki
) -> None:
    target, servicer = stand_in
    with connect(target, api_key="k-123", ca_file=dev_pki.ca_file, timeout=7.0) as games:
        assert [g.name for g in games.iter_games()] == ["games/1"], "UNAVAILABLE retried, gzip read"
        with pytest.raises(grpc.RpcError) as failed:
            games.catalog.CreateGame(pb.CreateGameRequest(), timeout=2.0)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    methods = [m for m, _, _ in servicer.calls]
    assert methods == ["ListGames", "ListGames", "CreateGame"], "a write is never retried"
    assert all(metadata["authorization"] == "Bearer k-123" for _, metadata, _ in servicer.calls)
    first, _, create = (remaining for _, _, remaining in servicer.calls)
    assert first is not None
    assert 5.0 < first <= 7.0, "the default deadline"
    assert create is not None
    assert create < 3.0, "a caller's own timeout wins"
