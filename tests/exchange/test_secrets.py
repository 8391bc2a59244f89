"""The API key, the secret key and the passphrase never reach a repr or an error message."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests

from exchange import OkxClient, OkxError, OkxInvalidRequest
from exchange.signing import REDACTED, redact
from tests.exchange.okx_fakes import API_KEY, PASSPHRASE, SECRET, FakeSession, Reply, make_client, raw

SYMBOL = "ETH-USDT-SWAP"
ECHO_PAGE = f"<html><pre>OK-ACCESS-PASSPHRASE: {PASSPHRASE}\nsecret={SECRET}</pre></html>"


def _chain(exc: BaseException | None) -> str:
    """Every message in an exception's cause/context chain."""
    parts = []
    while exc is not None:
        parts.append(f"{exc!s} {exc!r}")
        exc = exc.__cause__ or exc.__context__
    return " ".join(parts)


def test_client_repr_shows_no_secret() -> None:
    client = make_client(FakeSession())
    for text in (repr(client), str(client), repr(client._signer)):
        assert SECRET not in text and PASSPHRASE not in text


ANSWERS: dict[str, Reply | BaseException] = {
    "gateway page echoing the headers": raw(403, ECHO_PAGE),
    "5xx page echoing the headers": raw(502, ECHO_PAGE),
    "OKX message quoting the passphrase": raw(
        401, {"code": "50105", "msg": f"Passphrase {PASSPHRASE} incorrect"}
    ),
    "item message quoting the secret": raw(
        200,
        {
            "code": "1",
            "msg": "",
            "data": [
                {"clOrdId": "", "ordId": "", "sCode": "51000", "sMsg": f"Parameter {SECRET} error", "ts": "1"}
            ],
        },
    ),
    "timeout": requests.exceptions.ReadTimeout("read timed out"),
}

CALLS: dict[str, Callable[[Any], object]] = {
    "read": lambda c: c.get_balance(),
    "write": lambda c: c.place_order(SYMBOL, side="buy", ord_type="market", sz=Decimal(1)),
}


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_errors_never_include_the_secret_or_the_passphrase(
    answer: Reply | BaseException, call: Callable[[Any], object]
) -> None:
    client = make_client(FakeSession(always=answer), armed=True)
    with pytest.raises(OkxError) as info:
        call(client)
    text = _chain(info.value)
    assert SECRET not in text and PASSPHRASE not in text


def test_invalid_payload_message_is_stable_and_quotes_at_most_200_characters() -> None:
    body = "<html>" + "x" * 5000 + "</html>"
    messages = set()
    for _ in range(2):
        with pytest.raises(OkxError) as info:
            make_client(FakeSession(always=raw(502, body))).get_balance()
        messages.add(str(info.value))
    [message] = messages
    assert message.startswith("invalid OKX payload (HTTP 502): response is not JSON; body starts '<html>xxx")
    assert len(message) < 300


# Credentials as a paste or a file read leaves them: `requests` refuses such a header quoting the value.
MALFORMED = {
    "trailing newline": "{}\n",
    "header injection": "{}\r\nX-Evil: 1",
    "leading space": " {}",
}


@pytest.mark.parametrize("form", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("slot", ["api_key", "passphrase"])
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_credential_the_http_layer_refuses_is_never_sent_nor_quoted(
    form: str, slot: str, call: Callable[[Any], object]
) -> None:
    """A library user builds the client without the CLI's check: the refusal is the client's own error,
    nothing is sent, and no text or chained cause carries the value."""
    canary = f"CANARY{slot}7731"
    creds = {"api_key": API_KEY, "passphrase": PASSPHRASE, slot: form.format(canary)}
    session = FakeSession(always=raw(200, {"code": "0", "msg": "", "data": []}))
    client = OkxClient(creds["api_key"], SECRET, creds["passphrase"], session=session, armed=True)
    with pytest.raises(OkxInvalidRequest) as info:
        call(client)
    assert canary not in _chain(info.value) and "InvalidHeader" in str(info.value)
    assert session.sent == []


def test_redact_masks_every_form_a_pasted_secret_takes() -> None:
    key, passphrase = "KEYcanary0001\r\nX-Evil: 1", " PASScanary0002\n"
    seen = [
        f"as sent: {key} {passphrase}",
        f"as a message quotes it: {key!r} {passphrase!r}",
        f"as a JSON line escapes it: {json.dumps(key)} {json.dumps(passphrase)}",
        "as a server keeps a header: KEYcanary0001 and PASScanary0002",
    ]
    for text in seen:
        masked = redact(text, [key, passphrase])
        assert "canary" not in masked and REDACTED in masked, masked
        assert masked.startswith(text.split(":")[0])  # the words around the secrets stay
    assert redact("nothing secret here", [key, "", passphrase]) == "nothing secret here"


def test_a_value_too_short_to_be_a_credential_leaves_the_text_whole() -> None:
    """A one-letter OKX_API_SECRET (a typo, a test value) must not mangle every message, nor show where
    its letter stands by masking it everywhere; a piece that short left by a control character neither."""
    text = "malformed OKX_API_PASSPHRASE: a control character, whitespace at an end"
    assert redact(text, ["s", "a\nb"]) == text
    assert redact("the key LONGkey is here, 1", ["LONGkey\n1"]) == f"the key {REDACTED} is here, 1"


def test_the_client_masks_its_api_key_as_well_as_the_secret_and_the_passphrase() -> None:
    client = make_client(FakeSession())
    masked = client.redact(f"key {API_KEY}, secret {SECRET!r}, passphrase {json.dumps(PASSPHRASE)}")
    assert masked == f"key {REDACTED}, secret '{REDACTED}', passphrase \"{REDACTED}\""
