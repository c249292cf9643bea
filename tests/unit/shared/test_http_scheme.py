"""``shared.http`` knows no partner: a ``SigningScheme`` names the headers and the secrets'
config key, and every check, message and challenge uses its names."""

import pytest

from shared.auth import SecretTooShort
from shared.http import HttpError, SigningScheme, error_response, signature

SCHEME = SigningScheme(
    partner="tax office",
    timestamp_header="X-Tax-Time",
    signature_header="X-Tax-Sig",
    secrets_key="TAX_SECRETS",
    secrets_env="TAX_SECRET",
)
SECRET, NOW = "tax-office-shared-secret-0123456789", 1764300000
REQUEST = ("POST", "/tax/reliefs", "", b"{}")


def refused(headers, secrets=(SECRET,)):
    with pytest.raises(HttpError) as caught:
        SCHEME.verify(secrets, headers, *REQUEST, now=NOW)
    assert caught.value.status == 401
    return caught.value.message


def test_a_request_signed_under_the_schemes_headers_verifies():
    headers = SCHEME.headers(SECRET, NOW, *REQUEST)
    assert headers == {"X-Tax-Time": str(NOW), "X-Tax-Sig": signature(SECRET, str(NOW), *REQUEST)}
    SCHEME.verify((SECRET,), headers, *REQUEST, now=NOW)
    assert SCHEME.signed(headers).signed_at == NOW


def test_refusals_name_the_schemes_headers_and_secret():
    bureau_named = {
        "X-Bureau-Timestamp": str(NOW),
        "X-Bureau-Signature": signature(SECRET, str(NOW), *REQUEST),
    }
    assert refused(bureau_named) == "X-Tax-Time and X-Tax-Sig headers are required"
    assert "tax office integration is not configured (no TAX_SECRET" in refused({}, ())
    response = error_response(401, "unauthorized", "no", scheme=SCHEME)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge == 'HMAC-SHA256 headers="X-Tax-Time X-Tax-Sig"'


def test_the_schemes_secrets_come_from_its_config_key():
    assert SCHEME.secrets({"TAX_SECRETS": f"{SECRET}, {'z' * 32}"}) == (SECRET, "z" * 32)
    with pytest.raises(SecretTooShort, match=r"config TAX_SECRETS \(TAX_SECRET\)"):
        SCHEME.secrets({"TAX_SECRETS": "short"})
