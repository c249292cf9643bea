"""The bureau's request signature and body rules (shared/http.py), without a server: a
known vector from openssl, rotation, every way a header can be wrong, and the JSON a
partner may send."""
import json

import pytest

from shared.http import (MAX_BODY, MAX_SKEW, SIGNATURE, TIMESTAMP, HttpError, json_response,
                         parse_json_object, read_body, signature, verify)

SECRET, OLD = "bureau-shared-secret-0123456789abcdef", "bureau-rotated-out-0123456789abcdefgh"
NOW = 1764300000
BODY = b'{"postings": []}'


def headers(secret=SECRET, stamp=NOW, body=BODY, **overrides):
    out = {TIMESTAMP: str(stamp), SIGNATURE: signature(secret, str(stamp), body)}
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}


def refused(secrets, given, body=BODY, now=NOW):
    with pytest.raises(HttpError) as caught:
        verify(secrets, given, body, now=now)
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
    return caught.value.message


def test_the_signature_is_the_one_openssl_computes():
    # printf '%s.%s' 1764300000 '{"postings": []}' | openssl dgst -sha256 -hmac "$SECRET" -hex
    assert signature(SECRET, "1764300000", BODY) == (
        "sha256=7e62ada478be86904c96cbb2cb232361ce281c9612a76a304cfc1222db873f33")


def test_a_fresh_signature_by_any_configured_secret_verifies():
    verify((SECRET,), headers(), BODY, now=NOW)
    verify((SECRET, OLD), headers(secret=OLD), BODY, now=NOW + MAX_SKEW)
    upper = headers()[SIGNATURE].upper().replace("SHA256=", "sha256=")
    verify((SECRET,), headers(**{SIGNATURE: upper}), BODY, now=NOW - MAX_SKEW)


def test_a_signature_by_another_secret_or_over_another_body_is_refused():
    assert "does not match" in refused((SECRET,), headers(secret=OLD))
    assert "does not match" in refused((SECRET,), headers(), body=BODY + b" ")
    # The timestamp is signed too: moving it breaks the signature.
    moved = headers(**{TIMESTAMP: str(NOW + 1)})
    assert "does not match" in refused((SECRET,), moved)


@pytest.mark.parametrize("skew", [MAX_SKEW + 1, -MAX_SKEW - 1, 10 ** 9])
def test_a_stale_or_future_timestamp_is_refused_even_when_signed(skew):
    assert "away from now" in refused((SECRET,), headers(stamp=NOW + skew))


@pytest.mark.parametrize("override,words", [
    ({TIMESTAMP: None}, "required"),
    ({SIGNATURE: None}, "required"),
    ({SIGNATURE: ""}, "required"),
    ({TIMESTAMP: "1764300000.5"}, "unix time"),
    ({TIMESTAMP: "-1"}, "unix time"),
    ({TIMESTAMP: "١٧٦٤٣٠٠٠٠٠"}, "unix time"),  # digits, but not ASCII ones
    ({TIMESTAMP: "9" * 40}, "unix time"),
    ({SIGNATURE: "7e62ada478be86904c96cbb2cb232361ce281c9612a76a304cfc1222db873f33"},
     "sha256="),
    ({SIGNATURE: "sha256=" + "é" * 64}, "sha256="),   # compare_digest would raise on str
    ({SIGNATURE: "sha256=" + "0" * 63}, "sha256="),
    ({SIGNATURE: "sha1=" + "0" * 40}, "sha256="),
])
def test_a_missing_or_malformed_header_is_refused(override, words):
    assert words in refused((SECRET,), headers(**override))


def test_without_a_secret_nothing_verifies_and_the_message_says_why():
    assert "not configured" in refused((), headers())


def test_json_bodies_a_partner_may_send():
    assert parse_json_object(b'{"postings": [{"title": "\\u4ed3\\u5e93"}]}') == {
        "postings": [{"title": "仓库"}]}
    for body, words in ((b"{not json", "not JSON"), (b"\xff\xfe{}", "not JSON"),
                        (b'{"a": NaN}', "not JSON"), (b'{"a": -Infinity}', "not JSON"),
                        (b"[" * 50_000 + b"]" * 50_000, "not JSON"), (b"", "not JSON"),
                        (b"[1, 2]", "JSON object"), (b'"text"', "JSON object"),
                        (b"null", "JSON object")):
        with pytest.raises(HttpError) as caught:
            parse_json_object(body)
        assert caught.value.status == 400 and words in caught.value.message, body[:20]


class Input:
    """eventlet's wsgi input as far as read_body uses it: remembers how much was asked."""

    def __init__(self, data):
        self.data, self.asked = data, []

    def read(self, size):
        self.asked.append(size)
        return self.data[:size]


def test_a_body_is_read_at_most_to_one_byte_past_the_limit():
    stream = Input(b"x" * (MAX_BODY + 10))
    with pytest.raises(HttpError) as caught:
        read_body({"wsgi.input": stream}, None)  # chunked: no declared length
    assert caught.value.status == 413 and stream.asked == [MAX_BODY + 1]

    untouched = Input(b"x")
    with pytest.raises(HttpError) as caught:
        read_body({"wsgi.input": untouched}, MAX_BODY + 1)
    assert caught.value.status == 413 and untouched.asked == []  # refused before reading

    exact = Input(b"x" * MAX_BODY)
    assert len(read_body({"wsgi.input": exact}, MAX_BODY)) == MAX_BODY


def test_a_reply_echoing_a_lone_surrogate_is_still_json():
    response = json_response(400, {"errors": {"\ud800": ["Unknown field."]}, "name": "仓库"})
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == {"errors": {"\ud800": ["Unknown field."]},
                                               "name": "仓库"}
    plain = json_response(200, {"name": "仓库"})
    assert "仓库".encode("utf-8") in plain.get_data()  # readable when it can be
