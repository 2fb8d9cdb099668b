"""TLS on every listener when certificates are configured: the SDK exporters trust our CA and get through;
a plaintext sender does not."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import urllib.request
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.conftest import collector_config, genai_spans, running, wait_records


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it (PEM files)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "otel-llm test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


def test_exporters_over_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these variables win over a session's own CA file (psf/requests#3829), so the
    # HTTP exporter's certificate_file would be ignored on a machine that sets them.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    ca, cert, key = _certificates(tmp_path)
    records = tmp_path / "records.jsonl"
    config = {
        "destinations": {"records": {"type": "file", "path": str(records), "queue": {"flush_interval": "50ms"}}},
        "collector": collector_config(
            tmp_path / "state",
            tls={"cert_file": str(cert), "key_file": str(key)},
            auth={"tokens": [{"token": "tls-token", "tenant": "secure"}]},
        ),
    }
    headers = {"authorization": "Bearer tls-token"}
    with running(config) as c:
        credentials = grpc.ssl_channel_credentials(ca.read_bytes())
        grpc_exporter = GrpcExporter(
            endpoint=f"localhost:{c.collector.ports['grpc']}", credentials=credentials, headers=headers
        )
        assert grpc_exporter.export(genai_spans(2)) is SpanExportResult.SUCCESS
        https = f"https://127.0.0.1:{c.collector.ports['http']}/v1/traces"
        assert (
            HttpExporter(endpoint=https, certificate_file=str(ca), headers=headers).export(genai_spans(3))
            is SpanExportResult.SUCCESS
        )
        assert len(wait_records(records, 5)) == 5
        context = ssl.create_default_context(cafile=str(ca))
        admin = f"https://127.0.0.1:{c.collector.ports['admin']}/healthz"
        with urllib.request.urlopen(admin, context=context, timeout=5) as response:
            assert response.status == 200
        with pytest.raises(OSError):  # plaintext HTTP to the TLS port
            urllib.request.urlopen(f"http://127.0.0.1:{c.collector.ports['http']}/healthz", timeout=5)
        plain = GrpcExporter(endpoint=c.grpc, insecure=True, headers=headers, timeout=3)
        assert plain.export(genai_spans(1)) is SpanExportResult.FAILURE
