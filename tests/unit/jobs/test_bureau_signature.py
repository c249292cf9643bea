"""The bureau's request signature and body rules (shared/http.py), without a server: known
vectors from openssl, what the signature covers, the canonical query, rotation, every way
a header can be wrong, and the JSON a partner may send."""

import json

import pytest

from services.jobs.bureau import SIGNATURE, SIGNING, TIMESTAMP
from shared.http import (
    MAX_BODY,
    MAX_SKEW,
    HttpError,
    canonical_query,
    json_response,
    parse_json_object,
    read_body,
    signature,
    string_to_sign,
)

verify = SIGNING.verify

SECRET, OLD = "bureau-shared-secret-0123456789abcdef", "bureau-rotated-out-0123456789abcdefgh"
NOW = 1764300000
BODY = b'{"postings": []}'
REQUEST = ("POST", "/bureau/postings", "")  # method, path, query of BODY's request


def headers(secret=SECRET, stamp=NOW, body=BODY, request=REQUEST, **overrides):
    out = {TIMESTAMP: str(stamp), SIGNATURE: signature(secret, str(stamp), *request, body)}
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}


def refused(secrets, given, body=BODY, now=NOW, request=REQUEST):
    with pytest.raises(HttpError) as caught:
        verify(secrets, given, *request, body, now=now)
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
    return caught.value.message


def test_the_signature_is_the_one_the_documented_openssl_recipe_computes():
    # services/jobs/README.md, Signing: hash=$(printf '%s' "$body" | openssl dgst -sha256 -hex)
    # printf '%s\n%s\n%s\n%s\n%s' 1764300000 POST /bureau/postings "" "$hash" \
    #   | openssl dgst -sha256 -hmac "$SECRET" -hex
    assert string_to_sign("1764300000", "POST", "/bureau/postings", "", BODY) == (
        b"1764300000\nPOST\n/bureau/postings\n\n"
        b"cf740c3c8ec51e8f08f68f70c539e76db15760fdf31f0eefcba3e50c22b87a08"
    )
    assert signature(SECRET, "1764300000", "POST", "/bureau/postings", "", BODY) == (
        "sha256=61f586ff423352e288c167fe366fdbac976cb64d25007ee4150e3c7046a33ec6"
    )
    # A GET: its query in canonical order, the SHA-256 of no bytes.
    assert signature(
        SECRET, "1764300000", "GET", "/bureau/placements", "since=0&limit=100", b""
    ) == ("sha256=897491c4d30411c130772095c742ae482c5e5da9e41368f0e3bfc69a94fa5a31")


@pytest.mark.parametrize(
    "query,canonical",
    [
        ("", ""),
        ("since=0&limit=100", "limit=100&since=0"),  # sorted by name
        ("limit=100&since=0", "limit=100&since=0"),  # canonical already: itself
        ("since=2&since=1", "since=2&since=1"),  # a repeated name keeps its order
        ("flag&&x=", "flag=&x="),  # no "=": empty value; "&&" dropped
        ("q=a+b%2Bc", "q=a%20b%2Bc"),  # "+" is a space, %2B a plus
        ("%7e=%41", "~=A"),  # unreserved decoded, hex upper case
        ("k=%e4%bd%a0", "k=%E4%BD%A0"),
        ("k=\u00e4\u00bd\u00a0", "k=%E4%BD%A0"),  # raw UTF-8 bytes (WSGI's latin-1 str)
        (b"k=\xe4\xbd\xa0", "k=%E4%BD%A0"),
        ("k=%ff", "k=%FF"),  # not UTF-8: kept as the byte
        ("a==b", "a=%3Db"),
    ],
)
def test_the_canonical_query(query, canonical):
    assert canonical_query(query) == canonical


def test_a_fresh_signature_by_any_configured_secret_verifies():
    verify((SECRET,), headers(), *REQUEST, BODY, now=NOW)
    verify((SECRET, OLD), headers(secret=OLD), *REQUEST, BODY, now=NOW + MAX_SKEW)
    upper = headers()[SIGNATURE].upper().replace("SHA256=", "sha256=")
    verify((SECRET,), headers(**{SIGNATURE: upper}), *REQUEST, BODY, now=NOW - MAX_SKEW)
    # The query is signed canonically: the same pairs in another order or encoding verify.
    get = ("GET", "/bureau/placements", "since=0&limit=100")
    verify(
        (SECRET,),
        headers(request=get, body=b""),
        "GET",
        "/bureau/placements",
        "limit=1%30%30&since=0",
        b"",
        now=NOW,
    )


def test_a_signature_by_another_secret_or_over_another_body_is_refused():
    assert "does not match" in refused((SECRET,), headers(secret=OLD))
    assert "does not match" in refused((SECRET,), headers(), body=BODY + b" ")
    # The timestamp is signed too: moving it breaks the signature.
    moved = headers(**{TIMESTAMP: str(NOW + 1)})
    assert "does not match" in refused((SECRET,), moved)


@pytest.mark.parametrize(
    "request_",
    [
        ("PUT", "/bureau/postings", ""),  # another method
        ("POST", "/bureau/other", ""),  # another path
        ("POST", "/bureau/postings", "dry_run=1"),  # a query added
    ],
)
def test_a_signature_for_another_method_path_or_query_is_refused(request_):
    assert "does not match" in refused((SECRET,), headers(), request=request_)


def test_a_get_signature_covers_its_query():
    get = ("GET", "/bureau/placements", "since=0&limit=100")
    given = headers(request=get, body=b"")
    verify((SECRET,), given, *get, b"", now=NOW)
    for query in (
        "since=0&limit=500",
        "since=0",
        "since=0&limit=100&county=652302",
        "since=0&limit=100&limit=500",
    ):
        assert "does not match" in refused(
            (SECRET,), given, body=b"", request=("GET", "/bureau/placements", query)
        )
    # A GET's signature does not serve for a POST of an empty body to the same path.
    assert "does not match" in refused(
        (SECRET,), given, body=b"", request=("POST", "/bureau/placements", get[2])
    )


@pytest.mark.parametrize("skew", [MAX_SKEW + 1, -MAX_SKEW - 1, 10**9])
def test_a_stale_or_future_timestamp_is_refused_even_when_signed(skew):
    assert "away from now" in refused((SECRET,), headers(stamp=NOW + skew))


@pytest.mark.parametrize(
    "override,words",
    [
        ({TIMESTAMP: None}, "required"),
        ({SIGNATURE: None}, "required"),
        ({SIGNATURE: ""}, "required"),
        ({TIMESTAMP: "1764300000.5"}, "unix time"),
        ({TIMESTAMP: "-1"}, "unix time"),
        ({TIMESTAMP: "١٧٦٤٣٠٠٠٠٠"}, "unix time"),  # digits, but not ASCII ones
        ({TIMESTAMP: "9" * 40}, "unix time"),
        (
            {SIGNATURE: "7e62ada478be86904c96cbb2cb232361ce281c9612a76a304cfc1222db873f33"},
            "sha256=",
        ),
        ({SIGNATURE: "sha256=" + "é" * 64}, "sha256="),  # compare_digest would raise on str
        ({SIGNATURE: "sha256=" + "0" * 63}, "sha256="),
        ({SIGNATURE: "sha1=" + "0" * 40}, "sha256="),
    ],
)
def test_a_missing_or_malformed_header_is_refused(override, words):
    assert words in refused((SECRET,), headers(**override))


def test_without_a_secret_nothing_verifies_and_the_message_says_why():
    assert "not configured" in refused((), headers())


def test_json_bodies_a_partner_may_send():
    assert parse_json_object(b'{"postings": [{"title": "\\u4ed3\\u5e93"}]}') == {
        "postings": [{"title": "仓库"}]
    }
    for body, words in (
        (b"{not json", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        (b'{"a": NaN}', "not JSON"),
        (b'{"a": -Infinity}', "not JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"null", "JSON object"),
    ):
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
    assert json.loads(response.get_data()) == {
        "errors": {"\ud800": ["Unknown field."]},
        "name": "仓库",
    }
    plain = json_response(200, {"name": "仓库"})
    assert "仓库".encode() in plain.get_data()  # readable when it can be


@pytest.mark.parametrize("raw", ["x" * 31, f"{SECRET},too-short", "密" * 10])
def test_a_bureau_secret_under_32_bytes_is_refused_naming_the_setting(raw):
    from shared.auth import SecretTooShort
    from shared.http import secrets_from

    with pytest.raises(SecretTooShort) as refused_:
        secrets_from({"BUREAU_HMAC_SECRETS": raw}, "BUREAU_HMAC_SECRETS")
    message = str(refused_.value)
    assert "BUREAU_HMAC_SECRET" in message and "32 bytes" in message
    assert "too-short" not in message and "xxxxxxxx" not in message


def test_bureau_secrets_of_32_bytes_or_none_at_all_are_accepted():
    from shared.http import secrets_from

    assert secrets_from({"K": f" {'y' * 32} , {SECRET} "}, "K") == ("y" * 32, SECRET)
    assert secrets_from({}, "K") == ()  # not configured: every signed request is 401
