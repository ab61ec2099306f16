#!/usr/bin/env python3
"""Checks the input JSON Schemas (schemas/<adapter>.schema.json) against the bundled samples.

Usage: validate_inputs.py SOURCE_DIR

1. Every schema under SOURCE_DIR/schemas is a valid draft 2020-12 schema; the six input schemas
   have a title, a description, a description on every field, and do not forbid unknown fields.
2. Every record of samples/sample-stream.jsonl (kcat -J envelopes) is validated against the
   schema of its topic. Every record validates, except the two that are malformed on purpose:
   raw.telegram@3 (truncated JSON: must fail to parse) and raw.facebook@3 (no created_time:
   must fail the schema). The test fails if any of them is accepted, or any other is rejected.
3. Hand-written payloads: some the adapters accept (or skip) must validate, and single-field
   mutations of a valid payload that the adapters reject must not.

Prints one problem per line, then "N records checked, M problems"; exits non-zero on any problem.
Works with jsonschema 4.10 (Debian) and later; the schemas use no formats whose checking depends
on optional packages (ISO times are checked with a pattern that mirrors parse_iso8601).
"""
import copy
import glob
import json
import os
import sys

import jsonschema

INPUT_SCHEMAS = ["facebook", "tiktok", "telegram", "zalo", "report", "canonical"]

TOPIC_SCHEMA = {
    "raw.facebook": "facebook",
    "raw.tiktok": "tiktok",
    "raw.telegram": "telegram",
    "raw.zalo": "zalo",
    "raw.reports": "report",
    "raw.canonical": "canonical",
}

# (topic, offset) -> how the record must be rejected: "invalid_json" or "schema:<field>".
EXPECTED_REJECTED = {
    ("raw.telegram", 3): "invalid_json",
    ("raw.facebook", 3): "schema:created_time",
}

DELETE = object()

# One payload per schema that the adapter accepts; the negative cases below mutate these.
BASE = {
    "facebook": {
        "id": "1234_5678", "message": "Bán data khách hàng", "from": {"id": "100042", "name": "A"},
        "created_time": "2024-03-05T10:00:00+0000", "permalink_url": "https://www.facebook.com/1234/posts/5678",
        "attachments": {"data": [{"type": "share", "url": "https://momo-vn.top/nap"}]},
    },
    "tiktok": {
        "id": 7300000000000000001, "video_description": "data zalo", "create_time": 1711930340,
        "username": "ban.data", "share_url": "https://www.tiktok.com/@ban.data/video/7300000000000000001",
    },
    "telegram": {
        "update_id": 7,
        "message": {
            "message_id": 1042, "from": {"id": 5012345612, "is_bot": False, "username": "seller"},
            "chat": {"id": -1001234567890, "type": "supergroup", "title": "Chợ data", "username": "chodata"},
            "date": 1711930340, "text": "Bấm vào đây để nhận quà", "unknown": {"x": [1, 2]},
            "entities": [{"type": "text_link", "offset": 0, "length": 3, "url": "https://vietcombamk.com.vn/qua"}],
        },
    },
    "zalo": {
        "app_id": "1", "event_name": "user_send_text", "sender": {"id": "246"}, "recipient": {"id": "579"},
        "message": {"msg_id": "m1", "text": "cần mua data"}, "timestamp": "1711929600000",
    },
    "report": {
        "report_id": "r-1", "received_at": "2024-04-01T08:00:00+07:00", "channel": "hotline",
        "reporter_id": "cit_9f2", "target": {"kind": "url", "value": "https://vcb-xacthuc.com/login"},
        "category_hint": "fraud_link", "description": "Tin nhắn giả mạo ngân hàng",
    },
    "canonical": {
        "event_id": "x:1", "platform": "forum", "kind": "post", "author": "forum:u1", "channel": None, "text": "t",
        "event_time": 1700000000000, "urls": ["https://a.vn/"], "permalink": None,
    },
}

# Variations the adapters accept (or skip without error): must validate.
# (schema, what, path, new value or DELETE); path () replaces the whole payload.
ACCEPTED = [
    ("facebook", "comment with parent, numeric id", (), {
        "id": 998877, "parent": {"id": "1_2"}, "message": None, "created_time": "2024-03-05T10:00:00.120Z"}),
    ("facebook", "parent_id, unshimmed_url, null url", (), {
        "id": "1_2_3", "parent_id": "1_2", "created_time": "2024-03-05 17:00:00+07:00",
        "attachments": {"data": [{"url": None, "unshimmed_url": "https://x.vn/"}], "paging": {}}}),
    ("facebook", "from without id", ("from",), {"name": "A"}),
    ("tiktok", "comment, digit-string create_time", (), {
        "id": "c1", "text": "ib", "create_time": "1711930340", "video_id": "v9", "username": "u"}),
    ("tiktok", "create_time at the upper bound", ("create_time",), 253402300799),
    ("tiktok", "create_time string at the upper bound, leading zeros", ("create_time",), "000253402300799"),
    ("tiktok", "create_time 0", ("create_time",), 0),
    ("telegram", "callback_query is skipped, not rejected", (), {"update_id": 9, "callback_query": {"id": "1"}}),
    ("telegram", "update_id alone is skipped", (), {"update_id": "10"}),
    ("telegram", "channel post with caption", (), {
        "update_id": 8, "channel_post": {
            "message_id": 5, "sender_chat": {"id": -100777}, "chat": {"id": -100777, "type": "channel"},
            "date": 1711930340, "caption": "ảnh CCCD",
            "caption_entities": [{"type": "url", "offset": 0, "length": 4}]}}),
    ("telegram", "edited_message, string ids, digit-string date", (), {
        "update_id": 11, "edited_message": {"message_id": "12", "chat": {"id": "-1001", "title": None},
                                            "date": "1711930340", "edit_date": 1711930400}}),
    ("telegram", "text_mention entity with user", ("message", "entities"), [
        {"type": "text_mention", "offset": 2, "length": 5, "user": {"id": 1, "is_bot": False, "first_name": "A"}}]),
    ("zalo", "non-message event is skipped", (), {"event_name": "follow", "follower": {"id": "1"}, "timestamp": "1"}),
    ("zalo", "non-message event without timestamp", (), {"event_name": "user_seen_message", "sender": {"id": ""}}),
    ("zalo", "integer timestamp and ids", (), {
        "event_name": "user_send_text", "sender": {"id": 246}, "message": {"msg_id": 17, "text": None},
        "timestamp": 1711929600000}),
    ("zalo", "timestamp at the upper bound", ("timestamp",), "253402300799999"),
    ("report", "bank_account target, UTC time, no optional fields", (), {
        "report_id": 42, "received_at": "2024-04-01T08:00:00Z", "target": {"kind": "bank_account", "value": "0123"}}),
    ("report", "social_account target", ("target",), {"kind": "social_account", "value": "fb.com/x", "extra": 1}),
    ("report", "+hhmm offset", ("received_at",), "2024-04-01T08:00:00+0700"),
    ("canonical", "ISO event_time, integer event_id", (), {
        "event_id": 555, "platform": "p", "event_time": "2024-04-01T00:12:20.120+07:00"}),
    ("canonical", "event_time 0", ("event_time",), 0),
    ("canonical", "event_time at the upper bound", ("event_time",), 253402300799999),
]

# Mutations the adapters reject (missing_field or wrong_type): must not validate.
REJECTED = [
    ("facebook", "missing id", ("id",), DELETE),
    ("facebook", "empty id", ("id",), ""),
    ("facebook", "null id", ("id",), None),
    ("facebook", "missing created_time", ("created_time",), DELETE),
    ("facebook", "created_time not a time", ("created_time",), "yesterday"),
    ("facebook", "created_time without a zone", ("created_time",), "2024-03-05T10:00:00"),
    ("facebook", "created_time month 13", ("created_time",), "2024-13-05T10:00:00Z"),
    ("facebook", "created_time as a number", ("created_time",), 1709632800),
    ("facebook", "message is a number", ("message",), 5),
    ("facebook", "from.id is a boolean", ("from", "id"), True),
    ("facebook", "attachments.data[].url is a number", ("attachments", "data", 0, "url"), 5),
    ("facebook", "attachments.data is an object", ("attachments", "data"), {"url": "https://x.vn"}),
    ("tiktok", "missing id", ("id",), DELETE),
    ("tiktok", "missing create_time", ("create_time",), DELETE),
    ("tiktok", "create_time overflows (found by the fuzzer)", ("create_time",), "3676500000000000001"),
    ("tiktok", "create_time past 9999", ("create_time",), 253402300800),
    ("tiktok", "create_time string past 9999", ("create_time",), "253402300800"),
    ("tiktok", "create_time negative", ("create_time",), -1),
    ("tiktok", "create_time fractional", ("create_time",), 1711930340.5),
    ("tiktok", "create_time with a sign", ("create_time",), "+1711930340"),
    ("tiktok", "create_time empty string", ("create_time",), ""),
    ("tiktok", "text is a number", ("text",), 7),
    ("tiktok", "video_id is an object", ("video_id",), {"id": "1"}),
    ("telegram", "missing update_id", ("update_id",), DELETE),
    ("telegram", "message without chat.id", ("message", "chat", "id"), DELETE),
    ("telegram", "message with empty chat.id", ("message", "chat", "id"), ""),
    ("telegram", "message without chat", ("message", "chat"), DELETE),
    ("telegram", "message without message_id", ("message", "message_id"), DELETE),
    ("telegram", "message without date", ("message", "date"), DELETE),
    ("telegram", "date is not a number", ("message", "date"), "soon"),
    ("telegram", "date negative", ("message", "date"), -5),
    ("telegram", "text is a number", ("message", "text"), 5),
    ("telegram", "text is null", ("message", "text"), None),
    ("telegram", "message is null", ("message",), None),
    ("telegram", "from is a string", ("message", "from"), "seller"),
    ("telegram", "chat.title is a number", ("message", "chat", "title"), 3),
    ("telegram", "entities is an object", ("message", "entities"), {"type": "url"}),
    ("telegram", "entity url is null", ("message", "entities", 0, "url"), None),
    ("telegram", "entity offset negative", ("message", "entities", 0, "offset"), -1),
    ("telegram", "entity length missing", ("message", "entities", 0, "length"), DELETE),
    ("telegram", "channel_post without chat.id", (), {
        "update_id": 1, "channel_post": {"message_id": 1, "chat": {"type": "channel"}, "date": 1}}),
    ("zalo", "missing event_name", ("event_name",), DELETE),
    ("zalo", "empty event_name", ("event_name",), ""),
    ("zalo", "text event without msg_id", ("message", "msg_id"), DELETE),
    ("zalo", "text event with empty msg_id", ("message", "msg_id"), ""),
    ("zalo", "text event without timestamp", ("timestamp",), DELETE),
    ("zalo", "text event without sender", ("sender",), DELETE),
    ("zalo", "text event without sender.id", ("sender", "id"), DELETE),
    ("zalo", "text event with empty sender.id", ("sender", "id"), ""),
    ("zalo", "timestamp not a number", ("timestamp",), "soon"),
    ("zalo", "timestamp negative", ("timestamp",), -5),
    ("zalo", "timestamp past 9999", ("timestamp",), "253402300800000"),
    ("zalo", "message is null", ("message",), None),
    ("zalo", "message.text is a number", ("message", "text"), 1),
    ("report", "target.kind planet", ("target", "kind"), "planet"),
    ("report", "missing target", ("target",), DELETE),
    ("report", "missing target.kind", ("target", "kind"), DELETE),
    ("report", "missing target.value", ("target", "value"), DELETE),
    ("report", "empty target.value", ("target", "value"), ""),
    ("report", "missing report_id", ("report_id",), DELETE),
    ("report", "missing received_at", ("received_at",), DELETE),
    ("report", "received_at a date only", ("received_at",), "2024-04-01"),
    ("report", "description is a number", ("description",), 3),
    ("canonical", "missing event_id", ("event_id",), DELETE),
    ("canonical", "missing platform", ("platform",), DELETE),
    ("canonical", "empty platform", ("platform",), ""),
    ("canonical", "missing event_time", ("event_time",), DELETE),
    ("canonical", "event_time a string of digits", ("event_time",), "1700000000000"),
    ("canonical", "event_time negative", ("event_time",), -1),
    ("canonical", "event_time past 9999", ("event_time",), 253402300800000),
    ("canonical", "text is null", ("text",), None),
    ("canonical", "kind is null", ("kind",), None),
    ("canonical", "urls holds null", ("urls",), [None]),
]
# Every adapter wants a JSON object.
REJECTED += [(name, "document is an array", (), [1, 2]) for name in INPUT_SCHEMAS]
REJECTED += [(name, "document is a string", (), "x") for name in INPUT_SCHEMAS]


def mutate(base, path, value):
    doc = copy.deepcopy(base)
    if not path:
        return copy.deepcopy(value)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)
    return doc


def walk_properties(schema, where, problems):
    """Every field named under `properties` has a description; nothing forbids unknown fields."""
    if isinstance(schema, dict):
        if schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False:
            problems.append(f"{where}: forbids unknown fields (the adapters ignore them)")
        for name, sub in schema.get("properties", {}).items():
            if not isinstance(sub, dict) or not sub.get("description"):
                problems.append(f"{where}/properties/{name}: no description")
        for key, sub in schema.items():
            walk_properties(sub, f"{where}/{key}", problems)
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            walk_properties(sub, f"{where}/{i}", problems)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source_dir = sys.argv[1]
    problems = []
    checked = 0

    # 1. The schemas themselves.
    for path in sorted(glob.glob(os.path.join(source_dir, "schemas", "*.schema.json"))):
        if os.path.basename(path)[: -len(".schema.json")] in INPUT_SCHEMAS:
            continue  # checked below
        try:
            with open(path, encoding="utf-8") as f:
                jsonschema.Draft202012Validator.check_schema(json.load(f))
        except (ValueError, jsonschema.SchemaError) as e:
            problems.append(f"{os.path.relpath(path, source_dir)}: not a valid draft 2020-12 schema: {e}")
    validators = {}
    for name in INPUT_SCHEMAS:
        path = os.path.join(source_dir, "schemas", f"{name}.schema.json")
        try:
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
        except (OSError, ValueError, jsonschema.SchemaError) as e:
            problems.append(f"schemas/{name}.schema.json: {str(e).splitlines()[0]}")
            continue
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append(f"schemas/{name}.schema.json: $schema is not draft 2020-12")
        for key in ("title", "description"):
            if not schema.get(key):
                problems.append(f"schemas/{name}.schema.json: no {key}")
        walk_properties(schema, f"schemas/{name}.schema.json#", problems)
        validators[name] = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    missing = [n for n in INPUT_SCHEMAS if n not in validators]
    if missing:
        for p in problems:
            print(p)
        print(f"{checked} records checked, {len(problems)} problems (unusable schemas: {', '.join(missing)})")
        return 1

    # 2. The bundled samples.
    seen_rejected = set()
    valid_topics = set()
    samples = os.path.join(source_dir, "samples", "sample-stream.jsonl")
    with open(samples, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            checked += 1
            try:
                envelope = json.loads(line)
                topic, offset, payload = envelope["topic"], envelope["offset"], envelope["payload"]
            except (ValueError, KeyError, TypeError) as e:
                problems.append(f"samples line {line_no}: not a kcat -J envelope: {e}")
                continue
            where = f"{topic}@{offset}"
            name = TOPIC_SCHEMA.get(topic)
            if name is None:
                problems.append(f"{where}: no schema for topic {topic}")
                continue
            expected = EXPECTED_REJECTED.get((topic, offset))
            try:
                record = json.loads(payload)
            except (ValueError, TypeError) as e:
                if expected == "invalid_json":
                    seen_rejected.add((topic, offset))
                    print(f"{where}: rejected as expected (invalid JSON: {e})")
                else:
                    problems.append(f"{where}: payload is not JSON: {e}")
                continue
            errors = list(validators[name].iter_errors(record))
            if expected is None:
                for error in errors:
                    problems.append(f"{where}: {error.json_path}: {error.message}")
                if not errors:
                    valid_topics.add(topic)
            elif expected == "invalid_json":
                problems.append(f"{where}: expected truncated JSON, but the payload parses")
            else:
                field = expected.split(":", 1)[1]
                if not any(field in e.message or field in e.json_path for e in errors):
                    problems.append(f"{where}: expected a schema error about {field}, got "
                                    f"{[e.message for e in errors] or 'none: the record validates'}")
                else:
                    seen_rejected.add((topic, offset))
                    print(f"{where}: rejected as expected ({'; '.join(e.message for e in errors)})")
    for topic, offset in sorted(set(EXPECTED_REJECTED) - seen_rejected):
        if not any(p.startswith(f"{topic}@{offset}:") for p in problems):
            problems.append(f"{topic}@{offset}: the deliberately malformed sample is missing")
    for topic in sorted(set(TOPIC_SCHEMA) - valid_topics):
        problems.append(f"{topic}: no sample of this topic validates")

    # 3. Hand-written payloads.
    for name in INPUT_SCHEMAS:
        checked += 1
        for error in validators[name].iter_errors(BASE[name]):
            problems.append(f"{name} base payload: {error.json_path}: {error.message}")
    for name, what, path, value in ACCEPTED:
        checked += 1
        for error in validators[name].iter_errors(mutate(BASE[name], path, value)):
            problems.append(f"{name} ({what}): should validate: {error.json_path}: {error.message}")
    for name, what, path, value in REJECTED:
        checked += 1
        if validators[name].is_valid(mutate(BASE[name], path, value)):
            problems.append(f"{name} ({what}): validates, but the adapter rejects it")

    for p in problems:
        print(p)
    print(f"{checked} records checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
