"""GamesClient: the catalog and ingestion stubs on one channel to the gateway, and page iterators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeAlias, TypeVar

import grpc

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from gamesclient.channel import open_channel
from gamesclient.suite import DEFAULT_SUITE, SuiteError, load_suite

DEFAULT_PAGE_SIZE = 100
PlatformLike: TypeAlias = "cpb.Platform.ValueType | str | None"

T = TypeVar("T")


class _Page(Protocol):
    @property
    def next_page_token(self) -> str: ...


P = TypeVar("P", bound=_Page)


def platform_value(platform: PlatformLike) -> cpb.Platform.ValueType:
    """The Platform enum for `ios`, `android`, `PLATFORM_IOS`, an enum value, or None (any)."""
    if platform is None:
        return cpb.PLATFORM_UNSPECIFIED
    if isinstance(platform, str):
        name = platform.strip().upper()
        try:
            return cpb.Platform.Value(name if name.startswith("PLATFORM_") else f"PLATFORM_{name}")
        except ValueError:
            raise ValueError(f"unknown platform {platform!r} (ios or android)") from None
    return platform


def paginate(fetch: Callable[[str], P], items: Callable[[P], list[T]]) -> Iterator[T]:
    """Every item of a paged list: `fetch(page_token)` page by page until no next token."""
    token = ""
    while True:
        page = fetch(token)
        yield from items(page)
        token = page.next_page_token
        if not token:
            return


class GamesClient:
    """The platform's two services on one channel; each call carries the key and a deadline."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.catalog = cpb_grpc.CatalogServiceStub(channel)
        self.ingestion = ipb_grpc.IngestionServiceStub(channel)

    def iter_games(
        self, query: str = "", *, platform: PlatformLike = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[cpb.Game]:
        """Games matching `query` by name (SearchGames), or every game when it is empty (ListGames)."""
        value = platform_value(platform)
        if query:
            return paginate(
                lambda token: self.catalog.SearchGames(
                    cpb.SearchGamesRequest(query=query, platform=value, page_size=page_size, page_token=token)
                ),
                lambda page: list(page.games),
            )
        return paginate(
            lambda token: self.catalog.ListGames(
                cpb.ListGamesRequest(platform=value, page_size=page_size, page_token=token)
            ),
            lambda page: list(page.games),
        )

    def iter_imports(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[cpb.Import]:
        """Every catalog import, newest first."""
        return paginate(
            lambda token: self.catalog.ListImports(
                cpb.ListImportsRequest(page_size=page_size, page_token=token)
            ),
            lambda page: list(page.imports),
        )

    def iter_runs(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[ipb.Run]:
        """Every ingestion run, newest first."""
        return paginate(
            lambda token: self.ingestion.ListRuns(ipb.ListRunsRequest(page_size=page_size, page_token=token)),
            lambda page: list(page.runs),
        )

    def iter_files(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[ipb.File]:
        """Every file ingestion has seen."""
        return paginate(
            lambda token: self.ingestion.ListFiles(
                ipb.ListFilesRequest(page_size=page_size, page_token=token)
            ),
            lambda page: list(page.files),
        )

    def iter_quarantined(
        self, file: str = "", *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[ipb.QuarantinedRecord]:
        """Quarantined records with their reasons, of one file (`files/{id}`) or of every file."""
        return paginate(
            lambda token: self.ingestion.ListQuarantinedRecords(
                ipb.ListQuarantinedRecordsRequest(file=file, page_size=page_size, page_token=token)
            ),
            lambda page: list(page.records),
        )

    def close(self) -> None:
        """Close the channel; calls in progress are cancelled."""
        self.channel.close()

    def __enter__(self) -> GamesClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    target: str,
    *,
    api_key: str,
    ca_file: Path,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    timeout: float = 5.0,
    server_name: str | None = None,
) -> GamesClient:
    """A client for the gateway at `target` (host:port), calling with `api_key`."""
    channel = open_channel(
        target,
        api_key=api_key,
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        timeout=timeout,
        server_name=server_name,
    )
    return GamesClient(channel)


def from_suite(
    path: Path = DEFAULT_SUITE,
    *,
    key: str = "reader",
    target: str | None = None,
    timeout: float = 5.0,
) -> GamesClient:
    """A client for the local suite's gateway (or `target`), with its key named `key` and its CA."""
    suite = load_suite(path)
    if suite.ca_file is None:
        raise SuiteError(f"{path} names no CA file")
    return connect(
        target or suite.address("gateway"),
        api_key=suite.api_key(key),
        ca_file=suite.ca_file,
        cert_file=suite.client_cert if suite.client_key else None,
        key_file=suite.client_key if suite.client_cert else None,
        timeout=timeout,
    )
