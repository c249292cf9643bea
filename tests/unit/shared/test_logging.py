"""Log masking: ID numbers, phone numbers, names and tokens never leave in a log line."""

import io
import json
import logging

import pytest
import structlog

from shared import logging as vlog

ID = "652301199003071231"
ID_MASKED = "652301***********1"
ID_X = "65230119900307123X"
ID_X_MASKED = "652301***********X"
PHONE = "13899123456"
PHONE_MASKED = "138****3456"


# -- mask_text ----------------------------------------------------------------------------


def test_mask_text_masks_an_id_number_keeping_the_first_six_and_the_check_character():
    assert vlog.mask_text(f"card {ID} checked") == f"card {ID_MASKED} checked"


@pytest.mark.parametrize(
    "number, masked", [(ID_X, ID_X_MASKED), (ID_X.lower(), ID_X_MASKED.lower())]
)
def test_mask_text_masks_an_id_number_ending_in_x(number, masked):
    assert vlog.mask_text(f"id={number}") == f"id={masked}"


def test_mask_text_masks_a_mainland_mobile_number():
    assert vlog.mask_text(f"call {PHONE} today") == f"call {PHONE_MASKED} today"


def test_mask_text_masks_id_numbers_and_phones_inside_json_text():
    text = json.dumps({"id": ID, "tel": PHONE})
    masked = vlog.mask_text(text)
    assert ID not in masked and PHONE not in masked
    assert json.loads(masked) == {"id": ID_MASKED, "tel": PHONE_MASKED}


def test_mask_text_replaces_a_jwt():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    assert vlog.mask_text(f"Bearer {token}") == "Bearer <token>"


@pytest.mark.parametrize(
    "text",
    [
        "county 652301",
        "veteran 13899123-4567-4890-8123-138991234567",  # digit-rich UUID
        "at 2026-11-28T03:15:00.123456+00:00",
        "ts 20261128031500",
        "epoch_ms 1764299700123",
        "landline 0994-2345678",
    ],
)
def test_mask_text_leaves_codes_uuids_and_timestamps_alone(text):
    assert vlog.mask_text(text) == text


def test_mask_text_masks_a_mobile_number_written_with_the_country_code():
    assert PHONE not in vlog.mask_text(f"tel +86{PHONE}")


# -- mask_pii -----------------------------------------------------------------------------


def test_mask_pii_replaces_the_values_of_secret_keys():
    event = vlog.mask_pii(
        None,
        "info",
        {
            "event": "x",
            "name": "张伟",
            "phone": PHONE,
            "id_number": ID,
            "auth_token": "abc.def",
            "county_code": "652301",
        },
    )
    assert event == {
        "event": "x",
        "name": "***",
        "phone": "***",
        "id_number": "***",
        "auth_token": "***",
        "county_code": "652301",
    }


def test_mask_pii_masks_free_text_in_the_event_and_other_values():
    event = vlog.mask_pii(None, "info", {"event": f"lookup {ID}", "detail": f"tel {PHONE}"})
    assert event == {"event": f"lookup {ID_MASKED}", "detail": f"tel {PHONE_MASKED}"}


def test_mask_pii_hides_free_text_notes_whole_and_keeps_reason_codes():
    # (a name in a note has no shape to find; a reason in a log line is a code)
    event = vlog.mask_pii(
        None,
        "info",
        {
            "event": "e",
            "note": "张伟 已通知",
            "notes": "x y",
            "status_reason": "迁出",
            "reason": "filled",
        },
    )
    assert event == {
        "event": "e",
        "note": "***",
        "notes": "***",
        "status_reason": "***",
        "reason": "filled",
    }


def test_mask_pii_masks_nested_dicts_and_lists():
    event = vlog.mask_pii(
        None,
        "info",
        {
            "event": "e",
            "veteran": {
                "name": "张伟",
                "detail": f"tel {PHONE}",
                "contacts": [{"phone": PHONE}, f"id {ID}"],
            },
            "ids": [ID, ID_X],
        },
    )
    assert event["veteran"] == {
        "name": "***",
        "detail": f"tel {PHONE_MASKED}",
        "contacts": [{"phone": "***"}, f"id {ID_MASKED}"],
    }
    assert event["ids"] == [ID_MASKED, ID_X_MASKED]


def test_mask_pii_leaves_empty_secrets_and_other_types_as_they_are():
    event = vlog.mask_pii(
        None, "info", {"event": "e", "phone": None, "name": "", "count": 3, "ok": True}
    )
    assert event == {"event": "e", "phone": None, "name": "", "count": 3, "ok": True}


def test_mask_pii_leaves_exc_info_for_the_renderer():
    exc_info = (ValueError, ValueError(ID), None)
    event = vlog.mask_pii(None, "error", {"event": "e", "exc_info": exc_info})
    assert event["exc_info"] is exc_info


# -- end to end: stdlib records through make_handler --------------------------------------


@pytest.fixture
def stdlib_logger():
    buf = io.StringIO()
    handler = vlog.make_handler(buf)
    log = logging.getLogger("unit-test-pii")
    saved = (log.handlers[:], log.propagate, log.level)
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log, buf
    log.handlers[:], log.propagate, log.level = saved[0], saved[1], saved[2]


def test_a_stdlib_message_and_its_traceback_are_masked(stdlib_logger):
    log, buf = stdlib_logger
    try:
        raise LookupError(f"no card for {ID} (phone {PHONE})")
    except LookupError:
        log.exception("lookup of %s failed, phone %s", ID, PHONE)
    output = buf.getvalue()
    assert ID not in output and PHONE not in output
    line = json.loads(output)
    assert line["event"] == f"lookup of {ID_MASKED} failed, phone {PHONE_MASKED}"
    assert "Traceback" in line["exception"] and "LookupError" in line["exception"]
    assert f"no card for {ID_MASKED} (phone {PHONE_MASKED})" in line["exception"]
    assert line["level"] == "error"


def test_a_dict_formatted_into_a_stdlib_message_is_masked(stdlib_logger):
    log, buf = stdlib_logger
    log.info("registered %s", {"id_number": ID})
    output = buf.getvalue()
    assert ID not in output
    assert ID_MASKED in output


# -- end to end: structlog through configure_logging --------------------------------------


@pytest.fixture
def configured():
    root = logging.getLogger()
    noisy = {n: logging.getLogger(n).level for n in ("kombu", "amqp", "nameko.containers")}
    saved = (root.handlers[:], root.level, structlog.get_config())
    buf = io.StringIO()
    vlog.configure_logging(level="INFO", json=True, stream=buf)
    ours = [h for h in root.handlers if getattr(h, "veteran_services", False)]
    yield buf, ours
    for handler in ours:
        root.removeHandler(handler)
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    structlog.configure(**saved[2])
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


def test_configure_logging_installs_exactly_one_handler_of_ours(configured):
    buf, ours = configured
    assert len(ours) == 1
    assert ours[0].stream is buf


def test_configure_logging_twice_replaces_its_own_handler(configured):
    buf, _ = configured
    vlog.configure_logging(level="INFO", json=True, stream=buf)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "veteran_services", False)]
    assert len(ours) == 1


def test_a_structlog_line_is_json_with_personal_values_masked(configured):
    buf, _ = configured
    structlog.get_logger("x").info("event", id_number=ID, detail=f"call {PHONE}")
    output = buf.getvalue()
    assert ID not in output and PHONE not in output
    line = json.loads(output.strip().splitlines()[-1])
    assert line["event"] == "event"
    assert line["id_number"] == "***"
    assert line["detail"] == f"call {PHONE_MASKED}"
    assert line["logger"] == "x" and line["level"] == "info"
    assert "timestamp" in line


def test_a_structlog_exception_traceback_is_masked(configured):
    buf, _ = configured
    try:
        raise RuntimeError(f"bad card {ID}")
    except RuntimeError:
        structlog.get_logger("x").exception("failed")
    output = buf.getvalue()
    assert ID not in output
    line = json.loads(output.strip().splitlines()[-1])
    assert f"bad card {ID_MASKED}" in line["exception"]


def test_a_foreign_library_record_goes_through_the_same_masking(configured):
    buf, _ = configured
    logging.getLogger("kombu.fake").warning("message for %s", PHONE)
    line = json.loads(buf.getvalue().strip().splitlines()[-1])
    assert line["event"] == f"message for {PHONE_MASKED}"
    assert PHONE not in buf.getvalue()


def test_a_uuid_with_eleven_digits_in_a_row_is_not_masked_as_a_phone():
    from shared.logging import mask_text

    uuid_text = "84892a03-ff9f-45d8-94f5-18731103343d"
    assert mask_text(f"application {uuid_text}") == f"application {uuid_text}"
    assert mask_text("手机13912345678。") == "手机139****5678。"


# -- the variants a review found the masker missing ----------------------------------------

# (text as written, what must not survive in the masked text)
VARIANTS = [
    (f"tel 0086{PHONE}", PHONE),
    (f"tel 0086 {PHONE}", PHONE),
    (f"tel +86 {PHONE}", PHONE),
    ("tel 138-9912-3456", "9912"),
    ("tel 138 9912 3456", "9912"),
    ("tel 138-99123456", "9912"),
    ("tel +86-138-9912-3456", "9912"),
    ("tel １３８９９１２３４５６", "9912"),  # full-width digits
    ("tel １３８９９１２３４５６", "９９１２"),
    ("id ６５２３０１１９９００３０７１２３１", "19900307"),  # full-width ID number
    (f"id {ID}abc", "19900307"),  # followed by letters
    (f"id {ID}X", "19900307"),
    (f"id={ID_X}号", "19900307"),
]


@pytest.mark.parametrize("text, secret", VARIANTS)
def test_mask_text_catches_the_variants(text, secret):
    assert secret not in vlog.mask_text(text)


def test_a_separated_phone_keeps_its_shape_masked():
    assert vlog.mask_text("tel 138-9912-3456") == "tel 138-****-3456"
    assert vlog.mask_text("tel 138 9912 3456") == "tel 138 **** 3456"


@pytest.mark.parametrize(
    "text",
    ["2026-11-28 13:15:00", "landline 0994-2345678", "page 1 of 138 1234", "amount 13800.00 yuan"],
)
def test_the_separated_phone_pattern_leaves_dates_and_amounts_alone(text):
    assert vlog.mask_text(text) == text


def test_a_name_from_the_calls_arguments_is_masked_in_free_text():
    handle = vlog.remember_personal(
        ({"name": "张伟", "county_code": "652301", "notes": "退役后在乌鲁木齐做物流"},), {}
    )
    try:
        assert vlog.mask_text("card of 张伟 updated") == "card of *** updated"
        assert vlog.mask_text("note: 退役后在乌鲁木齐做物流") == "note: ***"
        assert vlog.mask_text("county 652301") == "county 652301"  # not a personal key
    finally:
        vlog.forget_personal(handle)
    assert vlog.mask_text("card of 张伟 updated") == "card of 张伟 updated"


def test_one_letter_values_are_not_remembered():
    # ("a" would mask every "a" of every line)
    handle = vlog.remember_personal({"name": "a"})
    try:
        assert vlog.mask_text("a card") == "a card"
    finally:
        vlog.forget_personal(handle)


def test_an_expected_error_is_one_warning_line_naming_fields_not_values(configured):
    from types import SimpleNamespace

    from shared.errors import InvalidInput

    buf, _ = configured
    worker = SimpleNamespace(
        service_name="registry", entrypoint=SimpleNamespace(method_name="register_veteran")
    )
    try:
        raise InvalidInput(
            f"invalid input: id_number: {ID} is bad",
            {"id_number": [f"{ID} is bad"], "phone": ["bad"]},
        )
    except InvalidInput as exc:
        logging.getLogger("nameko.containers").warning(
            "(expected) error handling worker %s: %s", worker, exc, exc_info=True
        )
    output = buf.getvalue()
    assert "Traceback" not in output and ID not in output and ID_MASKED not in output
    lines = output.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["level"] == "warning"
    assert line["event"] == (
        "expected error InvalidInput in registry.register_veteran (fields: id_number, phone)"
    )
    assert "exception" not in line


def test_an_unexpected_error_keeps_its_traceback(configured):
    buf, _ = configured
    try:
        raise KeyError("boom")
    except KeyError as exc:
        logging.getLogger("nameko.containers").exception("error handling worker %s: %s", "w", exc)
    line = json.loads(buf.getvalue().strip().splitlines()[-1])
    assert "Traceback" in line["exception"] and line["level"] == "error"
