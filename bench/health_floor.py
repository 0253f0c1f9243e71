"""The floor of the stack: a bare grpcio server answering grpc.health.v1 Check over the platform's mTLS.

Same machine, same dev PKI (the catalog's certificate, client certificates required), same thread-pool
server as gamekit's ServiceHost; no interceptors, no auth, no forwarding. Reflection is on because k6
discovers methods through it (only at connect). `python -m bench.health_floor --port P --certs DIR`
serves until SIGTERM; `started(certs)` runs one as a child process for the runner. With `--aio` the
same server runs on grpc.aio (one event loop, no thread hand-off per call): not the stack's floor but
the measure of what moving the services to grpc.aio could win.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bench.calls import direct_channel, identity_files
from gamectl.net import free_port
from gamectl.processes import stop_processes
from gamekit.security.tls import TlsFiles
from tests.fixtures.eventually import eventually

MAX_WORKERS = 16  # gamekit.serving.host.ServiceHost's default


def serve(port: int, certs: Path) -> grpc.Server:
    """Start the floor server on 127.0.0.1:port; returns it started."""
    server = grpc.server(futures.ThreadPoolExecutor(MAX_WORKERS), options=[("grpc.so_reuseport", 0)])
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    _mount(server, servicer, port, certs)
    server.start()
    return server


async def serve_aio(port: int, certs: Path, stop: asyncio.Event) -> None:
    """The same server on grpc.aio, until `stop` is set."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]  # re-exported, not declared
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    _mount(server, servicer, port, certs)
    await server.start()
    await stop.wait()
    await server.stop(1)


def _mount(
    server: grpc.Server | grpc.aio.Server, servicer: health_pb2_grpc.HealthServicer, port: int, certs: Path
) -> None:
    """Health, reflection and the mTLS port: what both server models serve, the same way."""
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    reflection.enable_server_reflection([health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    credentials = grpc.ssl_server_credentials(
        [((certs / "catalog.key").read_bytes(), (certs / "catalog.pem").read_bytes())],
        root_certificates=(certs / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    server.add_secure_port(f"127.0.0.1:{port}", credentials)


async def _main_aio(port: int, certs: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve_aio(port, certs, stop)


def main() -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certs", type=Path, required=True)
    parser.add_argument("--aio", action="store_true", help="serve on grpc.aio instead of the thread pool")
    args = parser.parse_args()
    if args.aio:
        asyncio.run(_main_aio(args.port, args.certs))
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = serve(args.port, args.certs)
    while not stop.wait(1.0):
        pass
    server.stop(1).wait()


@contextmanager
def started(certs: Path, *, aio: bool = False) -> Iterator[tuple[str, int]]:
    """A floor server in a child process, serving: yields its target and pid; stopped after."""
    port = free_port()
    command = [sys.executable, "-m", "bench.health_floor", "--port", str(port), "--certs", str(certs)]
    process = subprocess.Popen([*command, "--aio"] if aio else command)
    target = f"127.0.0.1:{port}"
    try:
        _wait_serving(target, identity_files(certs, "operator"), process)
        yield target, process.pid
    finally:
        stop_processes([process])


def _wait_serving(target: str, tls: TlsFiles, process: subprocess.Popen[bytes]) -> None:
    """Until the floor server answers health; RuntimeError at once if it exits first."""
    with direct_channel(target, tls) as channel:
        stub = health_pb2_grpc.HealthStub(channel)

        def answers() -> bool:
            try:
                stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                return True
            except grpc.RpcError:
                if process.poll() is not None:
                    raise RuntimeError("the health floor server exited before it served") from None
                return False

        eventually(answers, timeout=30, what="the health floor server serving")


if __name__ == "__main__":
    main()
