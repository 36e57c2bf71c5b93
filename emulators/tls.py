"""A throwaway certificate authority and server certificate for the emulators' HTTPS listeners."""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass
class TLSMaterial:
    """What a server needs to speak TLS and what a client needs to trust it."""

    server_context: ssl.SSLContext
    ca_path: str
    directory: tempfile.TemporaryDirectory

    def cleanup(self) -> None:
        self.directory.cleanup()


def make_tls(directory: str | None = None) -> TLSMaterial:
    """Issue a fresh CA and a certificate for 127.0.0.1/localhost; write the CA PEM for clients to verify with."""
    ca = trustme.CA(organization_name="Provisioning console emulators")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    cert.configure_cert(context)
    tmp = tempfile.TemporaryDirectory(prefix="emulators-ca-", dir=directory)
    ca_path = str(Path(tmp.name) / "emulators-ca.pem")
    ca.cert_pem.write_to_path(ca_path)
    return TLSMaterial(server_context=context, ca_path=ca_path, directory=tmp)
