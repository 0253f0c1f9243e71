"""Who may call what through the gateway: keys, scopes, revocation, certificates, rate limits."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gamectl.certs import DevPki, issue_cert
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from gateway import surface
from gateway.callers import keys as keystore
from gateway.surface import METHODS, Kind
from tests.fixtures.eventually import eventually
from tests.fixtures.gateway import OpenGatewayChannel, Platform, RunningGateway, StartGateway
from tests.integration.gateway.calls import CALLS, code_of

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED


def test_calls_cover_every_method_and_scopes_match_the_key_store() -> None:
    assert set(CALLS) == set(METHODS)
    assert set(surface.SCOPES) == set(keystore.SCOPES)


def test_scope_matrix_for_every_method(platform: Platform, gateway_channel: OpenGatewayChannel) -> None:
    target, keys = platform.gateway.target, platform.keys
    channels = {
        "no key": gateway_channel(target),
        "unknown key": gateway_channel(target, "gk_nobody_" + "A" * 43),
        "malformed key": gateway_channel(target, "not-a-key"),
        "reader": gateway_channel(target, keys.reader),
        "writer": gateway_channel(target, keys.writer),
        "operator": gateway_channel(target, keys.operator),
        "admin": gateway_channel(target, keys.admin),
    }
    scopes = {
        "reader": {surface.READ},
        "writer": {surface.READ, surface.WRITE},
        "operator": {surface.ADMIN},
        "admin": set(surface.SCOPES),
    }
    wrong = []
    for name, method in METHODS.items():
        for who, channel in channels.items():
            code = code_of(CALLS[name], channel)
            if who not in scopes:
                expected: object = UNAUTHENTICATED
                ok = code == UNAUTHENTICATED
            elif method.kind is Kind.INTERNAL:
                expected, ok = grpc.StatusCode.UNIMPLEMENTED, code == grpc.StatusCode.UNIMPLEMENTED
            elif method.scope in scopes[who]:
                # A real answer from the backend: the fixture data has no games/1 until CreateGame ran.
                expected, ok = "OK or NOT_FOUND", code in (grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND)
            else:
                expected, ok = DENIED, code == DENIED
            if not ok:
                wrong.append(f"{name} as {who}: {code.name}, expected {expected}")
    assert wrong == []


def test_refusals_say_why_with_error_info(platform: Platform, gateway_channel: OpenGatewayChannel) -> None:
    stub = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.reader))
    with pytest.raises(grpc.RpcError) as denied:
        stub.DeleteGame(cpb.DeleteGameRequest(name="games/1"), timeout=5)
    details = error_details(denied.value)
    assert (details.code, details.reason) == (DENIED, "MISSING_SCOPE")
    assert "games.write" in details.message
    assert details.request_id

    anonymous = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target))
    with pytest.raises(grpc.RpcError) as missing:
        anonymous.ListGames(cpb.ListGamesRequest(), timeout=5)
    assert error_details(missing.value).reason == "MISSING_CREDENTIALS"


def another_gateway(platform: Platform, start_gateway: StartGateway, **settings: object) -> RunningGateway:
    """A second gateway in front of the platform's backends and keys, with other `settings`."""
    return start_gateway(
        catalog_target=platform.catalog.target,
        ingestion_target=f"127.0.0.1:{platform.ingestion.port}",
        api_keys_file=platform.keys.path,
        **settings,
    )


def _wait_for(code: grpc.StatusCode, channel: grpc.Channel, timeout: float = 10.0) -> None:
    """Until ListGames on `channel` ends with `code` (the gateway re-reads its keys file meanwhile)."""
    seen: list[grpc.StatusCode] = []

    def answered() -> bool:
        seen.append(code_of(CALLS["/games.catalog.v1.CatalogService/ListGames"], channel))
        return seen[-1] == code

    eventually(answered, timeout=timeout, interval=0.05, what=lambda: f"{code.name}; still {seen[-1].name}")


def test_revoked_and_removed_keys_are_refused_after_the_file_changes(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    keys = platform.keys
    reader = gateway_channel(platform.gateway.target, keys.reader)
    writer = gateway_channel(platform.gateway.target, keys.writer)
    _wait_for(grpc.StatusCode.OK, reader)
    _wait_for(grpc.StatusCode.OK, writer)

    document = json.loads(keys.path.read_text())
    document["keys"] = [k for k in document["keys"] if k["id"] != "reader"]
    for entry in document["keys"]:
        if entry["id"] == "writer":
            entry["revoked"] = True
    keys.path.write_text(json.dumps(document))

    _wait_for(UNAUTHENTICATED, reader)
    _wait_for(UNAUTHENTICATED, writer)
    _wait_for(grpc.StatusCode.OK, gateway_channel(platform.gateway.target, keys.admin))


def test_health_and_reflection_need_no_key(platform: Platform, gateway_channel: OpenGatewayChannel) -> None:
    channel = gateway_channel(platform.gateway.target)
    health = health_pb2_grpc.HealthStub(channel)
    eventually(
        lambda: (
            health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
            == health_pb2.HealthCheckResponse.SERVING
        ),
        timeout=10,
        what="the gateway SERVING",
    )
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in next(iter(answers)).list_services_response.service}
    assert {"games.catalog.v1.CatalogService", "games.ingestion.v1.IngestionService"} <= names


def test_reflection_can_be_switched_off(
    platform: Platform, start_gateway: StartGateway, gateway_channel: OpenGatewayChannel
) -> None:
    gateway = another_gateway(platform, start_gateway, reflection=False)
    reflection = reflection_pb2_grpc.ServerReflectionStub(
        gateway_channel(gateway.target, platform.keys.admin)
    )
    with pytest.raises(grpc.RpcError) as missing:
        next(
            iter(
                reflection.ServerReflectionInfo(
                    iter([reflection_pb2.ServerReflectionRequest(list_services="")])
                )
            )
        )
    assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_client_certificate_identity_maps_to_scopes(
    platform: Platform,
    start_gateway: StartGateway,
    gateway_channel: OpenGatewayChannel,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    ci = issue_cert(ca_file=dev_pki.ca_file, ca_key_file=dev_pki.ca_key_file, out_dir=tmp_path, name="ci")
    gateway = another_gateway(
        platform, start_gateway, identity_scopes=f"{ci.spiffe_id}=games.read,spiffe://games.local/operator="
    )
    as_ci = gateway_channel(gateway.target, cert_file=ci.cert_file, key_file=ci.key_file)
    assert code_of(CALLS["/games.catalog.v1.CatalogService/ListGames"], as_ci) == grpc.StatusCode.OK
    assert code_of(CALLS["/games.catalog.v1.CatalogService/CreateGame"], as_ci) == DENIED
    # The operator certificate maps to no scope: it needs a key like anybody else.
    as_operator = gateway_channel(gateway.target)
    assert code_of(CALLS["/games.catalog.v1.CatalogService/ListGames"], as_operator) == DENIED
    with_key = gateway_channel(gateway.target, platform.keys.reader)
    assert code_of(CALLS["/games.catalog.v1.CatalogService/ListGames"], with_key) == grpc.StatusCode.OK


def test_without_client_auth_a_key_over_plain_tls_is_enough(
    platform: Platform, start_gateway: StartGateway, gateway_channel: OpenGatewayChannel
) -> None:
    gateway = another_gateway(platform, start_gateway, client_auth="none")
    list_games = CALLS["/games.catalog.v1.CatalogService/ListGames"]
    assert (
        code_of(list_games, gateway_channel(gateway.target, platform.keys.reader, identity=None))
        == grpc.StatusCode.OK
    )
    assert code_of(list_games, gateway_channel(gateway.target, identity=None)) == UNAUTHENTICATED
    # The default gateway still requires a platform certificate on the handshake.
    assert code_of(
        list_games, gateway_channel(platform.gateway.target, platform.keys.reader, identity=None)
    ) == (grpc.StatusCode.UNAVAILABLE)


def test_over_the_rate_limit_is_resource_exhausted_with_retry_info(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    slow = keystore.create_key(
        platform.keys.path, key_id="slow", scopes=["games.read"], rate_limit_rps=0.2, rate_limit_burst=2
    )
    channel = gateway_channel(platform.gateway.target, slow)
    list_games = CALLS["/games.catalog.v1.CatalogService/ListGames"]
    _wait_for(grpc.StatusCode.OK, channel)  # the new key is picked up (and spends one token)
    codes = [code_of(list_games, channel) for _ in range(3)]
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes
    with pytest.raises(grpc.RpcError) as limited:
        list_games(channel)
    details = error_details(limited.value)
    assert details.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details.retry_after is not None
    assert details.retry_after > 0


def test_the_access_line_names_the_callers_key(
    platform: Platform, gateway_channel: OpenGatewayChannel, caplog: pytest.LogCaptureFixture
) -> None:
    stub = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.reader))
    request_id = "access-line-of-the-reader"
    with caplog.at_level(logging.INFO, logger="gamekit.access"):
        stub.ListGames(cpb.ListGamesRequest(), metadata=[("x-request-id", request_id)], timeout=10)
    lines = [getattr(r, "fields", {}) for r in caplog.records]
    # The gateway's line names the key; the catalog's, for the same request id, only its peer.
    named = [
        (f["key_id"], f["code"], f["method"])
        for f in lines
        if f.get("request_id") == request_id and "key_id" in f
    ]
    assert named == [("reader", "OK", "/games.catalog.v1.CatalogService/ListGames")]
