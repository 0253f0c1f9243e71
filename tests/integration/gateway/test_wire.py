"""What goes over the wire: gzip when the caller accepts it, the caller's deadline and request id."""

from __future__ import annotations

import uuid

import grpc

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.fixtures.gateway import OpenGatewayChannel, Platform
from tests.integration.gateway.relay import CountingRelay

IDENTITY_ONLY = [("grpc.compression_enabled_algorithms_bitset", 1)]


def fill(stub: cpb_grpc.CatalogServiceStub, count: int) -> None:
    for n in range(count):
        game = cpb.Game(
            display_name=f"Very Compressible Adventure Game {n}",
            platform=cpb.PLATFORM_IOS,
            store_id=f"store-{n}",
            bundle_id=f"com.example.very.compressible.adventure.game{n}",
            publisher_name="Example Publisher of Very Compressible Games",
            categories=["Games", "Adventure", "Puzzle", "Role Playing"],
        )
        stub.CreateGame(cpb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())), timeout=10)


def test_responses_are_gzipped_when_the_caller_accepts_gzip(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    writer = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.writer))
    fill(writer, 40)
    relay = CountingRelay(platform.gateway.host.port)
    try:
        request = cpb.ListGamesRequest(page_size=40)
        plain = cpb_grpc.CatalogServiceStub(
            gateway_channel(f"127.0.0.1:{relay.port}", platform.keys.reader, options=IDENTITY_ONLY)
        )
        plain.ListGames(request, timeout=10)  # connect and warm the cache outside the count
        relay.reset()
        expected = plain.ListGames(request, timeout=10)
        plain_bytes = relay.reset()

        gzip_channel = gateway_channel(
            f"127.0.0.1:{relay.port}", platform.keys.reader, compression=grpc.Compression.Gzip
        )
        gzipped = cpb_grpc.CatalogServiceStub(gzip_channel)
        gzipped.ListGames(request, timeout=10)
        relay.reset()
        answer = gzipped.ListGames(request, timeout=10)
        gzip_bytes = relay.reset()
    finally:
        relay.close()

    assert answer == expected
    assert len(answer.games) == 40
    assert expected.ByteSize() < plain_bytes  # sent as is
    assert gzip_bytes < plain_bytes / 3, (gzip_bytes, plain_bytes)


def test_short_answers_go_uncompressed(platform: Platform, gateway_channel: OpenGatewayChannel) -> None:
    # Under forwarding.COMPRESS_MIN_BYTES, gzip would save little and cost every call zlib's set-up.
    writer = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.writer))
    game = cpb.Game(display_name="Short " + "a" * 300, platform=cpb.PLATFORM_IOS, store_id="short-answer")
    created = writer.CreateGame(cpb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())), timeout=10)
    request = cpb.GetGameRequest(name=created.game.name)
    relay = CountingRelay(platform.gateway.host.port)
    try:
        sizes = {}
        for label, options in (
            ("plain", {"options": IDENTITY_ONLY}),
            ("gzip", {"compression": grpc.Compression.Gzip}),
        ):
            stub = cpb_grpc.CatalogServiceStub(
                gateway_channel(f"127.0.0.1:{relay.port}", platform.keys.reader, **options)
            )
            stub.GetGame(request, timeout=10)
            relay.reset()
            answer = stub.GetGame(request, timeout=10)
            sizes[label] = relay.reset()
    finally:
        relay.close()
    assert answer.ByteSize() < 1024
    # gzip would take ~250 bytes off these 300 'a's; the headers differ by a few bytes at most.
    assert sizes["gzip"] > sizes["plain"] - 50, sizes


def test_the_backend_sees_the_callers_deadline_and_request_id(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    # The catalog's own interceptor answers with the request id it was given, in its ErrorInfo.
    stub = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.reader))
    request_id = uuid.uuid4().hex
    call = stub.GetGame.future(
        cpb.GetGameRequest(name="games/404"), metadata=[("x-request-id", request_id)], timeout=10
    )
    error = call.exception()
    assert isinstance(error, grpc.Call)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert dict(error.trailing_metadata())["x-request-id"] == request_id
