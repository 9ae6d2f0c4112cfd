"""Issue 14, forged meter readings: "the MQTT ingestion client has no credentials or TLS, and
the tenant comes from the topic: an anonymous publish to openpcf/supplier/plant-s/m1 added
2,913,500 kg CO2e to another company's site".

Now (1) the ingestion service signs in to a broker over TLS whose ACL gives each plant account
its own tenant's topics only, and anonymous clients are turned away; this test starts such a
Mosquitto of its own (the machine's binary, a temporary CA and server certificate, a password
file and an ACL file, on a free port), leaving the broker on 1883 alone; (2) a meter registered
with an Ed25519 key counts only readings signed with it: an unsigned or badly signed one is
stored as refused with the reason. SQLite and PostgreSQL.
"""

# ruff: noqa: F811 - `store` is the fixture imported from test_monitoring_mqtt
from __future__ import annotations

import base64
import datetime as dt
import getpass
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from openpcf.domain.certification import public_raw
from openpcf.io.meter_signature import sign_message
from openpcf.services.monitoring.ingest import Ingestor
from openpcf.services.monitoring.mqtt import IngestionService, Settings
from openpcf.services.monitoring.registry import apply_plant, plant_from, tenant_principal
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from openpcf.store.models_monitoring import MonitoringReading, MonitoringRejected
from tests.test_monitoring_ingest import NOW, PLANT, T0
from tests.test_monitoring_mqtt import store  # noqa: F401 - the fixture (acme's plant)

ACCOUNTS = {"openpcf-monitor": "monitor pass phrase 1", "plant-acme": "acme pass phrase 2",
            "plant-other": "other pass phrase 3"}  # fmt: skip
ACL = """\
# the ingestion service reads every tenant's meters
user openpcf-monitor
topic read openpcf/#

# each plant account writes its own tenant's topics only
user plant-acme
topic write openpcf/acme/#

user plant-other
topic write openpcf/other/#
"""


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 / localhost, signed by it (PEM files)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openpcf test MQTT CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        ]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    paths[2].chmod(0o600)
    return paths


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Mosquitto with TLS, a password file and an ACL on a free port; (port, CA file)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    passwd_tool = shutil.which("mosquitto_passwd")
    if not Path(binary).exists() or passwd_tool is None:
        pytest.skip("mosquitto and mosquitto_passwd are not installed (apt-get install mosquitto)")
    ca, cert, key = _certificates(tmp_path)
    passwords = tmp_path / "passwd"
    passwords.touch(mode=0o600)
    for user, password in ACCOUNTS.items():
        subprocess.run([passwd_tool, "-b", str(passwords), user, password], check=True)
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"per_listener_settings false\nallow_anonymous false\npassword_file {passwords}\n"
        f"acl_file {acl}\nlistener {port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\n"
        f"keyfile {key}\ntls_version tlsv1.2\npersistence false\nuser {getpass.getuser()}\n"
    )
    log = (tmp_path / "broker.log").open("wb")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"mosquitto did not start: {(tmp_path / 'broker.log').read_text()}")
                time.sleep(0.05)
        yield port, ca
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _client(port: int, ca: Path | None, user: str | None) -> tuple[mqtt.Client, object]:
    """A connected publisher (or the refusal code when the broker turns it away)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{time.monotonic_ns()}")
    if user is not None:
        client.username_pw_set(user, ACCOUNTS[user])
    if ca is not None:
        client.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    answer: dict[str, object] = {}
    done = threading.Event()
    client.on_connect = lambda _c, _u, _f, rc, _p: (answer.__setitem__("rc", rc), done.set())
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert done.wait(10), "no CONNACK"
    return client, answer["rc"]


def _readings(url: str) -> list[tuple[int, float]]:
    with sessions(url)() as s:
        return [tuple(r) for r in s.execute(
            select(MonitoringReading.ts_ms, MonitoringReading.value).order_by(MonitoringReading.ts_ms)
        )]  # fmt: skip


def test_only_the_tenants_own_account_can_publish_its_readings(store: str, secure_broker) -> None:
    port, ca = secure_broker
    # anonymous clients are turned away (TLS or not)
    anon, rc = _client(port, ca, None)
    assert rc.is_failure and "authori" in str(rc).lower(), rc  # Not authorized
    anon.loop_stop()
    stop = threading.Event()
    settings = Settings("127.0.0.1", port, client_id="openpcf-monitor-t", flush_s=0.05,
                        username="openpcf-monitor", password=ACCOUNTS["openpcf-monitor"],
                        ca_file=str(ca))  # fmt: skip
    service = IngestionService(Ingestor(store, clock=lambda: NOW), settings)
    runner = threading.Thread(target=service.run, args=(stop,), daemon=True)
    runner.start()
    try:
        assert service.subscribed.wait(15), "the service did not subscribe over TLS"
        topic = "openpcf/acme/s1/coal"
        # another company's plant account publishes into acme's site: the broker drops it
        other, rc = _client(port, ca, "plant-other")
        assert not rc.is_failure
        forged = json.dumps([{"ts": T0, "value": 2913.5}]).encode()  # 2913.5 t of coal
        other.publish(topic, forged, qos=1).wait_for_publish(10)
        other.loop_stop()
        # acme's own account publishes a real reading
        acme, rc = _client(port, ca, "plant-acme")
        assert not rc.is_failure
        acme.publish(topic, json.dumps([{"ts": T0 + 60, "value": 0.25}]).encode(),
                     qos=1).wait_for_publish(10)  # fmt: skip
        acme.loop_stop()
        deadline = time.monotonic() + 15
        while not _readings(store) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        runner.join(15)
    assert _readings(store) == [((T0 + 60) * 1000, 0.25)]  # the forged 2913.5 t never arrived


def test_the_service_without_credentials_is_refused(secure_broker) -> None:
    port, ca = secure_broker
    client, rc = _client(port, ca, None)
    client.loop_stop()
    assert rc.is_failure


def test_a_keyed_meter_counts_only_readings_signed_with_its_key(store: str) -> None:
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(public_raw(key.public_key())).decode()
    plant = json.loads(json.dumps(PLANT))
    coal = next(m for m in plant["meters"] if m["id"] == "coal")
    coal["public_key"] = public
    factory = sessions(store)
    with factory() as s:
        who = tenant_principal(s, "acme", accounts.operator("tests"))
    apply_plant(factory(), who, plant_from(plant))
    topic = "openpcf/acme/s1/coal"
    good = json.dumps([{"ts": T0 + 60, "value": 0.25}])
    thief = Ed25519PrivateKey.generate()
    messages = [
        (topic, json.dumps([{"ts": T0, "value": 2913.5}]).encode()),  # unsigned (the finding)
        (topic, sign_message(topic, json.dumps([{"ts": T0 + 1, "value": 99}]), thief)),
        # signed by the meter, for another meter's topic, replayed here
        (topic, sign_message("openpcf/acme/s1/gas", json.dumps([{"ts": T0 + 2, "value": 7}]), key)),
        (topic, sign_message(topic, good, key)),
    ]
    report = Ingestor(store, clock=lambda: NOW).ingest(messages)
    assert (report.accepted, report.rejected) == (1, 3)
    assert _readings(store) == [((T0 + 60) * 1000, 0.25)]
    with factory() as s:
        reasons = [r for (r,) in s.execute(select(MonitoringRejected.reason)
                                           .order_by(MonitoringRejected.id))]  # fmt: skip
    assert reasons[0].startswith("unsigned reading")
    assert reasons[1].startswith("bad signature") and reasons[2].startswith("bad signature")
    # a meter without a key still takes plain readings (keys are per meter)
    plain = Ingestor(store, clock=lambda: NOW).ingest(
        [("openpcf/acme/s1/gas", json.dumps([{"ts": T0, "value": 10}]).encode())]
    )
    assert plain.accepted == 1
