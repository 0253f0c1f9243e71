"""Kubelet's gRPC probe: grpc.health.v1 Check on the pod's IP and the probe's port, with the probe's service.

Kubelet counts a probe as passed only when the answer is SERVING; an error, a timeout or another status
is a failure. The plaintext health port is what kubelet reaches (it has no client certificate).
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def grpc_check(ip: str, port: int, service: str, timeout: float) -> tuple[bool, str]:
    """(passed, what was answered) for one probe."""
    with grpc.insecure_channel(f"{ip}:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as exc:
            return False, f"{exc.code().name}: {exc.details()}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, status
