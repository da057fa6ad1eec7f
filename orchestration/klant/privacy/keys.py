"""Keyed hashes: how klant names an identifier it must remember without keeping it in clear.

An erasure must be remembered (the suppression list, the audit log) without the identifier it
erased. A plain SHA-256 of an e-mail address is no answer: anyone holding a list of addresses
hashes them and reads the list back. klant hashes ``<secret key>:<identifier key>`` instead, where
the identifier key is the identity graph's (``email:ann@example.com``, ``phone:+31612345678``,
``user_id:u-17``, ``crm_record_id:1001``, ``anonymous_id:…``, ``person:kp_0000000001``). DuckDB
computes the same hash in SQL (``sha256(key || ':' || identifier_key)``), so matching millions of
identifiers never leaves the warehouse.

The key comes from KLANT_PRIVACY_KEY (production: a secret store), else from ``privacy.key`` in
the warehouse folder, created once with mode 0600. Lose the key and the suppression list can no
longer recognise anyone: back it up with the warehouse.
"""

import hashlib
import os
import re
import secrets
from collections.abc import Callable

from klant.identity.dictionary import default_phone_region
from klant.identity.normalize import normalize_email, normalize_phone
from klant.settings import Settings

KEY_ENV = "KLANT_PRIVACY_KEY"
KEY_FILE = "privacy.key"
MIN_KEY_LENGTH = 32
_PERSON_ID = re.compile(r"^kp_[0-9]{10}$")

Row = dict[str, str | None]


def privacy_key(settings: Settings) -> str:
    """The secret that keys every privacy hash (KLANT_PRIVACY_KEY, else <warehouse>/privacy.key)."""
    from_env = os.environ.get(KEY_ENV, "").strip()
    if from_env:
        if len(from_env) < MIN_KEY_LENGTH:
            raise ValueError(f"{KEY_ENV} must hold at least {MIN_KEY_LENGTH} characters")
        return from_env
    path = settings.warehouse_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"{path} holds no usable key (at least {MIN_KEY_LENGTH} characters)")
    return key


def keyed_hash(key: str, identifier_key: str) -> str:
    """The hash klant keeps for an identifier key; equal to SQL sha256(key || ':' || key)."""
    return hashlib.sha256(f"{key}:{identifier_key}".encode()).hexdigest()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_identifier_keys(identifier_type: str, value: str, default_region: str) -> list[str]:
    """The identity-graph keys an erasure request names; ValueError (without the value) if none.

    A customer id is the shop's account id (web user_id) or the CRM's record id: both are named.
    """
    text = value.strip()
    if identifier_type == "email":
        email = normalize_email(text)
        if not email.is_valid or email.value is None:
            raise ValueError("identifier_value is not a valid e-mail address")
        return [f"email:{email.value}"]
    if identifier_type == "phone":
        phone = normalize_phone(text, default_region)
        if phone.value is None:
            raise ValueError("identifier_value is not a phone number")
        return [f"phone:{phone.value}"]
    if identifier_type == "customer_id":
        return [f"user_id:{text}", f"crm_record_id:{text}"]
    if identifier_type == "person_id":
        if not _PERSON_ID.match(text):
            raise ValueError("identifier_value is not a klant person id (kp_ and 10 digits)")
        return [f"person:{text}"]
    raise ValueError(f"unknown identifier_type {identifier_type!r}")


def request_transform(settings: Settings) -> Callable[[Row], Row]:
    """The ingest row transform of privacy requests: the identifier becomes keyed hashes."""
    key = privacy_key(settings)
    region = default_phone_region()

    def transform(row: Row) -> Row:
        value = row.pop("identifier_value", None) or ""
        keys = request_identifier_keys((row.get("identifier_type") or "").strip(), value, region)
        row["identifier_hashes"] = ",".join(keyed_hash(key, k) for k in keys)
        return row

    return transform
