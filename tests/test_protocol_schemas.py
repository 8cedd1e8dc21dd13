"""The JSON Schemas in docs/schemas/: well-formed, linked from the doc, and agreeing with the
documented examples, the shared test vectors and the payloads the code produces."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from protocol_doc import SCHEMAS, VECTORS, doc_text, json_blocks, section, validator, vectors

from gymcorner.app import App
from gymcorner.avatar.codec import decode_binary
from gymcorner.avatar.codec_json import decode_json, encode_json
from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import SELECTABLE
from gymcorner.config import Config
from gymcorner.transport.commands import CommandName

SCHEMA_FILES = sorted(SCHEMAS.glob("*.json"))
# Section of docs/protocol.md -> schema its JSON examples follow.
SECTIONS = {"status": "status", "feedback": "feedback", "session": "session", "cmd/reply": "cmd-reply"}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_each_schema_is_valid_2020_12_and_linked_from_the_protocol_doc(path) -> None:
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert f"(schemas/{path.name})" in doc_text(), f"docs/protocol.md does not link schemas/{path.name}"


@pytest.mark.parametrize("title", sorted(SECTIONS))
def test_every_example_of_a_section_matches_its_schema(title: str) -> None:
    examples = json_blocks(section(title))
    assert examples, f"no example in '## {title}'"
    for example in examples:
        validator(SECTIONS[title]).validate(example)


def test_documented_commands_match_the_schema_and_refused_ones_do_not() -> None:
    cmd = validator("cmd")
    good, bad = vectors("cmd"), vectors("cmd-invalid")
    assert {c["cmd"] for c in good} == {n.value for n in CommandName}
    schema = json.loads((SCHEMAS / "cmd.json").read_text())
    assert set(schema["properties"]["cmd"]["enum"]) == {n.value for n in CommandName}
    exercise = schema["allOf"][0]["then"]["properties"]["args"]["properties"]["exercise"]
    assert exercise["enum"] == [e.value for e in SELECTABLE]  # what set_exercise accepts
    for body in good:
        cmd.validate(body)
    assert bad
    for body in bad:
        assert not cmd.is_valid(body), body


def test_tcp_line_vectors_match_the_envelope_schema() -> None:
    lines = vectors("tcp-line")
    assert {line["topic"] for line in lines} >= {"feedback", "avatar"}
    for line in lines:
        validator("tcp-line").validate(line)
    assert not validator("tcp-line").is_valid({"topic": "feedback", "payload": {"v": 1}})


def test_the_avatar_vectors_json_form_matches_the_schema_and_the_bytes() -> None:
    avatar = validator("avatar")
    cases = json.loads((VECTORS / "avatar_v1.json").read_text())
    assert cases
    for case in cases:
        avatar.validate(case["json"])
        avatar.validate(json.loads(encode_json(decode_binary(bytes.fromhex(case["hex"])))))
    broken = dict(cases[0]["json"])
    del broken["bones"]
    assert not avatar.is_valid(broken), "a frame with a person must carry its bones"


def test_the_invalid_avatar_vectors_are_rejected_by_the_python_decoder() -> None:
    cases = json.loads((VECTORS / "avatar_v1_invalid.json").read_text())
    assert len(cases) >= 10
    for case in cases:
        with pytest.raises(ValueError):
            decode_binary(bytes.fromhex(case["hex"]))


def test_payloads_built_by_the_code_match_the_schemas() -> None:
    feedback = {
        **FeedbackEvent(t=1.25, code="narrow_stance", text="Feet wider", view="frontal").to_dict(),
        "v": 1,
        "id": "corner-1-abcd-1",
        "device": "corner-1",
    }
    validator("feedback").validate(feedback)
    app = App(Config())  # opens nothing until start()
    for final in (False, True):
        validator("session").validate({**app._session_summary(final=final, t=2.0), "v": 1, "device": "corner-1"})
    validator("avatar").validate(
        json.loads(
            encode_json(
                decode_json(
                    json.dumps({"v": 1, "seq": 7, "t_s": 0.5, "present": False, "view": "unknown", "exercise": "squat"})
                )
            )
        )
    )


def test_no_section_names_a_topic_the_table_does_not_have() -> None:
    table_topics = set(re.findall(r"`(<base>/<device>/[a-z/_]+)`", section("Topics")))
    mentioned = set(re.findall(r"`(<base>/<device>/[a-z_]+(?:/[a-z_]+)?)`", doc_text()))
    extra = {t for t in mentioned - table_topics if not t.startswith("<base>/<device>/wearables")}
    assert not extra, f"topics named in docs/protocol.md but missing from its table: {sorted(extra)}"
