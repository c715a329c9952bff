"""The signal-type registry: its facts, validation that normalises or raises, the match rules,
and the proof that the feed's SQL (migrations) agrees with it."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openncii.db.migrate import alembic_config
from openncii.errors import InvalidHashError
from openncii.signals.pdq import MATCH_THRESHOLD, PdqHash
from openncii.signals.registry import (
    MD5,
    PDQ,
    PDQ_TYPES,
    SIGNAL_TYPES,
    VPDQ,
    SignalType,
    by_key,
    by_wire_name,
    feed_keys,
    keys,
    pdq_type_of_kind,
    wire_names,
)
from openncii.signals.variants import ENROLLED_KINDS, Kind, pair_threshold
from openncii.signals.vpdq import VpdqFeature, format_vpdq_text, vpdq_match

HEX = "0123456789abcdef"
_hex = st.text(alphabet=HEX, min_size=64, max_size=64)


def _flip(value: str, bits: int) -> str:
    return f"{int(value, 16) ^ ((1 << bits) - 1):064x}"


def _signature(pdqs: list[str]) -> str:
    return format_vpdq_text(
        VpdqFeature(frame=i, quality=90, pdq=p, timestamp=float(i)) for i, p in enumerate(pdqs)
    ).rstrip("\n")


# --------------------------------------------------------------------------------------------------
# The facts
# --------------------------------------------------------------------------------------------------


def test_the_registry_holds_the_documented_types() -> None:
    assert wire_names() == {
        "pdq": "ImagePDQ",
        "md5": "VideoMD5",
        "vpdq": "VideoPDQ",
        "pdq_trim": "ImagePDQTrim",
        "pdq_square": "ImagePDQSquare",
        "pdq_strip": "ImagePDQStrip",
    }
    assert keys() == ("pdq", "md5", "vpdq", "pdq_trim", "pdq_square", "pdq_strip")
    assert [t.media for t in SIGNAL_TYPES] == ["image", "video", "video", *["image"] * 3]
    # Stock clients get what they know (and our VideoPDQ, as before); variants on request.
    assert feed_keys(variants=False) == ("pdq", "md5", "vpdq")
    assert feed_keys(variants=True) == keys()


def test_each_enrolled_kind_has_its_pdq_type() -> None:
    """The kind travels as the signal type: one PDQ type per kind a device enrols."""
    assert {t.variant_kind for t in PDQ_TYPES} == {k.value for k in ENROLLED_KINDS}
    for kind in ENROLLED_KINDS:
        signal = pdq_type_of_kind(kind)
        assert signal.variant_kind == kind and signal in SIGNAL_TYPES
        assert signal.variant == (kind is not Kind.FULL)
    assert pdq_type_of_kind("full") is PDQ
    with pytest.raises(InvalidHashError, match="full, trim, square, strip"):
        pdq_type_of_kind(Kind.DIHEDRAL)


@given(value=_hex, bits=st.integers(0, 40))
def test_a_variant_type_compares_by_the_pair_rule_of_its_kind(value: str, bits: int) -> None:
    other = _flip(value, bits)
    for signal in PDQ_TYPES:
        found = signal.compare(value, other)
        assert found.distance == bits
        assert found.match == (bits <= pair_threshold(signal.variant_kind, signal.variant_kind))


def test_keys_and_wire_names_are_unique_and_found_both_ways() -> None:
    assert len({t.key for t in SIGNAL_TYPES}) == len(SIGNAL_TYPES)
    assert len({t.wire_name for t in SIGNAL_TYPES}) == len(SIGNAL_TYPES)
    for kind in SIGNAL_TYPES:
        assert isinstance(kind, SignalType)
        assert by_key(kind.key) is kind
        assert by_wire_name(kind.wire_name) is kind
        # Storage keys fit hashes.signal_type (String(16)) and are plain lowercase words.
        assert re.fullmatch(r"[a-z0-9_]{1,16}", kind.key)
    assert by_wire_name("VideoTMK") is None
    with pytest.raises(InvalidHashError, match="pdq, md5, vpdq"):
        by_key("tmk")


def test_stock_types_are_those_python_threatexchange_knows() -> None:
    api = pytest.importorskip("threatexchange.exchanges.clients.stopncii.api")
    known = {member.value for member in api.StopNCIISignalType}
    for kind in SIGNAL_TYPES:
        assert kind.stock == (kind.wire_name in known), kind


# --------------------------------------------------------------------------------------------------
# Validation that normalises or raises
# --------------------------------------------------------------------------------------------------


@given(value=_hex, upper=st.booleans(), pad=st.sampled_from(["", " ", "\n", "\t "]))
def test_pdq_normalises_case_and_spaces(value: str, upper: bool, pad: str) -> None:
    text = pad + (value.upper() if upper else value) + pad
    assert PDQ.normalize(text) == value
    assert PDQ.lookup(text) == value
    # The same rule as the hash code's own parser.
    assert PdqHash.from_hex(text).hex == value


@given(value=st.text(max_size=80))
def test_pdq_refuses_anything_else_without_echoing_it(value: str) -> None:
    stripped = value.strip().lower()
    if len(stripped) == 64 and all(c in HEX for c in stripped):
        assert PDQ.normalize(value) == stripped
        return
    with pytest.raises(InvalidHashError) as caught:
        PDQ.normalize(value)
    assert "PDQ hash" in str(caught.value)
    if len(value) > 3:
        assert value not in str(caught.value)
    assert PDQ.lookup(value) is None


@given(value=st.text(alphabet=HEX, min_size=32, max_size=32), upper=st.booleans())
def test_md5_normalises_and_refuses(value: str, upper: bool) -> None:
    assert MD5.normalize(f" {value.upper() if upper else value} ") == value
    assert MD5.identity(value) == value
    for bad in (value[:-1], value + "0", "g" + value[1:]):
        with pytest.raises(InvalidHashError, match="MD5"):
            MD5.normalize(bad)
        assert MD5.lookup(bad) is None


def test_vpdq_keeps_the_text_and_is_identified_by_its_sha256() -> None:
    text = _signature(["ab" * 32, "cd" * 32])
    assert VPDQ.normalize(text) == text
    identity = VPDQ.identity(text)
    assert identity == hashlib.sha256(text.encode()).hexdigest()
    for bad in ("", "1,2,3", "0,90,zz,0.000", "nothing here"):
        with pytest.raises(InvalidHashError, match="vPDQ"):
            VPDQ.normalize(bad)


@pytest.mark.parametrize("kind", SIGNAL_TYPES, ids=lambda t: t.key)
def test_feedback_on_a_record_as_sent_finds_the_stored_hash(kind: SignalType) -> None:
    """A partner reports a hash as the feed sent it (``hashValue``, no type): the lookup gives
    back exactly the stored identity, and it fits the storage column (64 characters)."""
    samples = dict.fromkeys(PDQ_TYPES, ("ab" * 32, None)) | {MD5: ("cd" * 16, None)}
    signature = _signature(["ef" * 32])
    value, payload = samples.get(kind, (VPDQ.identity(signature), signature))
    normalised = kind.normalize(payload or value)
    identity = kind.identity(normalised)
    assert identity == value and len(identity) <= 64
    sent = kind.wire_value(identity, payload)
    assert kind.lookup(sent) == identity
    # The identity itself is accepted too (what the partner store and the matcher report).
    assert kind.lookup(identity) == identity


def test_a_value_is_looked_up_in_registry_order() -> None:
    """64 hex characters are a PDQ hash or a vPDQ identity; 32 only an MD5."""
    value = "ab" * 32
    assert [t.key for t in SIGNAL_TYPES if t.lookup(value)] == [
        "pdq",
        "vpdq",
        "pdq_trim",
        "pdq_square",
        "pdq_strip",
    ]
    assert [t.key for t in SIGNAL_TYPES if t.lookup("ab" * 16)] == ["md5"]
    assert [t.key for t in SIGNAL_TYPES if t.lookup("x" * 64)] == []


# --------------------------------------------------------------------------------------------------
# Match rules and distances
# --------------------------------------------------------------------------------------------------


@given(value=_hex, bits=st.integers(0, 64))
def test_pdq_compare_is_the_hamming_rule(value: str, bits: int) -> None:
    other = _flip(value, bits)
    found = PDQ.compare(value, other.upper())
    assert found.distance == bits == PdqHash.from_hex(value).distance(PdqHash.from_hex(other))
    assert found.match == (bits <= MATCH_THRESHOLD)
    assert PDQ.threshold == MATCH_THRESHOLD == 31


def test_md5_compare_is_equality() -> None:
    assert MD5.compare("AB" * 16, "ab" * 16) == (MD5.compare("ab" * 16, "ab" * 16))
    assert MD5.compare("ab" * 16, "ab" * 16).match
    assert MD5.compare("ab" * 16, "ab" * 16).distance == 0
    different = MD5.compare("ab" * 16, "ac" * 16)
    assert not different.match and different.distance == 1


def test_vpdq_compare_is_the_vpdq_rule() -> None:
    frames = [f"{i:02x}" * 32 for i in range(17, 27)]
    video = _signature(frames)
    same = VPDQ.compare(video, _signature([_flip(f, 5) for f in frames]))
    assert same.match and same.distance == 0
    # 7 of 10 frames shared: 70% < 80%, no match; 30% of the frames missed.
    partly = _signature(frames[:7] + ["00" * 32] * 3)
    result = VPDQ.compare(video, partly)
    expected = vpdq_match(
        [VpdqFeature(i, 90, f, float(i)) for i, f in enumerate(frames)],
        [VpdqFeature(i, 90, f, float(i)) for i, f in enumerate(frames[:7] + ["00" * 32] * 3)],
    )
    assert result.match is expected.is_match is False
    assert result.distance == 30


# --------------------------------------------------------------------------------------------------
# The feed's SQL agrees with the registry
# --------------------------------------------------------------------------------------------------


def _feed_function_source() -> str:
    """The newest migration that (re)defines ``feed_record_json``: what PostgreSQL runs."""
    from alembic.script import ScriptDirectory

    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        source = Path(str(script.path)).read_text(encoding="utf-8")
        if re.search(r"FUNCTION\s+feed_record_json\s*\(", source):
            return source
    raise AssertionError("no migration defines feed_record_json")


def test_the_migrations_sql_maps_storage_keys_to_the_registrys_wire_names() -> None:
    source = _feed_function_source()
    case = re.search(r"CASE\s+signal_type\s+((?:WHEN\s+'\w+'\s+THEN\s+'\w+'\s+)+)ELSE", source)
    assert case is not None, "the signalType CASE of feed_record_json"
    mapping = dict(re.findall(r"WHEN\s+'(\w+)'\s+THEN\s+'(\w+)'", case.group(1)))
    assert mapping == wire_names()


def test_the_migrations_sql_sends_the_payload_of_the_types_the_registry_says() -> None:
    source = _feed_function_source()
    in_sql = set(re.findall(r"WHEN\s+signal_type\s*=\s*'(\w+)'\s+AND\s+payload\s*<>\s*''", source))
    in_registry = {t.key for t in SIGNAL_TYPES if t.wire_value("v", "p") == "p"}
    assert in_sql == in_registry == {"vpdq"}
    assert all(t.wire_value("v", None) == "v" for t in SIGNAL_TYPES)


@pytest.mark.postgres
def test_postgresql_builds_the_records_the_registry_describes(fresh_postgres_url: str) -> None:
    """Run the migrated database's own ``feed_record_json`` for every type (and an unknown
    one, sent as its storage key on both backends)."""
    from sqlalchemy import text

    from openncii.db import make_engine, migrate

    engine = make_engine(fresh_postgres_url)
    try:
        migrate(engine)
        signature = _signature(["ab" * 32])
        rows = [(t.key, "ab" * 32, signature if t is VPDQ else None) for t in SIGNAL_TYPES]
        rows.append(("unknown", "cd" * 32, None))
        with engine.connect() as connection:
            for key, value, payload in rows:
                body = connection.execute(
                    text(
                        "SELECT feed_record_json(:key, :value, :payload, 'active', :at, NULL, NULL)"
                    ),
                    {"key": key, "value": value, "payload": payload, "at": datetime.now(UTC)},
                ).scalar_one()
                record = json.loads(body)
                known = key in keys()
                assert record["signalType"] == (by_key(key).wire_name if known else key)
                expected = by_key(key).wire_value(value, payload) if known else value
                assert record["hashValue"] == expected
    finally:
        engine.dispose()


def test_the_victim_apis_hash_types_are_storage_keys() -> None:
    from typing import get_args

    from openncii.api.schemas import Md5In, PdqIn, VariantIn, VpdqIn

    for model, kind in ((PdqIn, PDQ), (Md5In, MD5), (VpdqIn, VPDQ)):
        assert get_args(model.model_fields["type"].annotation) == (kind.key,)
    # A photo's hashes carry the kinds a device enrols (each stored as its PDQ type).
    kinds = get_args(VariantIn.model_fields["kind"].annotation)
    assert set(kinds) == {k.value for k in ENROLLED_KINDS}


def test_the_matcher_matches_every_registered_type() -> None:
    from typing import get_args

    from openncii.partner.matcher import SignalKind

    assert get_args(SignalKind) == keys()
