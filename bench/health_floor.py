"""The floor of the stack: a bare grpcio server answering grpc.health.v1 Check over the platform's mTLS.

Same machine, same dev PKI (the catalog's certificate, client certificates required), same thread-pool
server as gamekit's ServiceHost; no interceptors, no auth, no forwarding. Reflection is on because k6
discovers methods through it (only at connect). `python -m bench.health_floor --port P --certs DIR`
serves until SIGTERM; `started(certs)` runs one as a child process for the runner.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
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
from gamekit.tls import TlsFiles

MAX_WORKERS = 16  # gamekit.server.ServiceHost's default


def serve(port: int, certs: Path) -> grpc.Server:
    """Start the floor server on 127.0.0.1:port; returns it started."""
    server = grpc.server(futures.ThreadPoolExecutor(MAX_WORKERS), options=[("grpc.so_reuseport", 0)])
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    reflection.enable_server_reflection([health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    credentials = grpc.ssl_server_credentials(
        [((certs / "catalog.key").read_bytes(), (certs / "catalog.pem").read_bytes())],
        root_certificates=(certs / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    server.add_secure_port(f"127.0.0.1:{port}", credentials)
    server.start()
    return server


def main() -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certs", type=Path, required=True)
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = serve(args.port, args.certs)
    while not stop.wait(1.0):
        pass
    server.stop(1).wait()


@contextmanager
def started(certs: Path) -> Iterator[tuple[str, int]]:
    """A floor server in a child process, serving: yields its target and pid; stopped after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.health_floor", "--port", str(port), "--certs", str(certs)]
    )
    target = f"127.0.0.1:{port}"
    try:
        _wait_serving(target, identity_files(certs, "operator"), process)
        yield target, process.pid
    finally:
        stop_processes([process])


def _wait_serving(target: str, tls: TlsFiles, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    with direct_channel(target, tls) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                return
            except grpc.RpcError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the health floor server did not start") from None
                time.sleep(0.1)


if __name__ == "__main__":
    main()
