"""USPS address validation over httpx against a loopback fake speaking the v3 API: the
OAuth2 token, the address lookup (current and older field names), the standardised address
next to what was typed, accept / keep, bulk validation within the quota, and errors (400,
404, 429, expired token, bad credentials) in plain words."""

from __future__ import annotations

import pytest

from config.secrets import Secret
from core import addresses_validation as av
from core import clients
from core.errors import DomainError
from core.models import Address
from core.tiers import FeatureLocked
from integrations import usps
from integrations.http import IntegrationError, RetryPolicy
from integrations.usps import AddressProblem, UspsClient
from tests.fakes.usps_server import CLIENT_ID, CLIENT_SECRET, FakeUsps, address_answer

PREMIUM = "premium"
FAST = RetryPolicy(retries=2, backoff=0.01)

ELM = address_answer("12 ELM ST", "SPRINGFIELD", "IL", "62701", "1234")
OAK = address_answer("400 OAK AVE", "SPRINGFIELD", "IL", "62704", "5678",
                     secondary="APT 2")
MAPLE_NEEDS_UNIT = address_answer(
    "88 MAPLE DR", "SPRINGFIELD", "IL", "62702", "", dpv="D",
    corrections=[{"code": "32", "text": "Default address: The address you entered was found "
                  "but more information is needed (such as an apartment, suite, or box "
                  "number) to match to a specific address."}],
    matches=[])


@pytest.fixture
def usps_fake():
    with FakeUsps() as fake:
        fake.add("12 Elm St", "62701", ELM)
        fake.add("400 Oak Avenue", "62704", OAK)
        fake.add("88 Maple Dr", "62702", MAPLE_NEEDS_UNIT)
        yield fake


def _client_for(base: str, *, sleeps: list[float] | None = None,
                secret: str = CLIENT_SECRET) -> UspsClient:
    return UspsClient(Secret(CLIENT_ID), Secret(secret), api_base=base, timeout=5, policy=FAST,
                      sleep=sleeps.append if sleeps is not None else (lambda s: None))


@pytest.fixture
def api(usps_fake):
    client = _client_for(usps_fake.base)
    yield client
    client.close()


def _address(db, line1: str, zip_: str, line2: str = "", city: str = "Springfield",
             country: str = "US") -> int:
    cid = clients.create_client(db, clients.ClientData(name=f"Owner of {line1}"), [], [
        clients.AddressData(line1=line1, line2=line2, city=city, region="IL",
                            postal_code=zip_, country=country)])
    with db.read() as s:
        return s.get(clients.Client, cid).addresses[0].id


def _stored(db, address_id: int) -> Address:
    with db.read() as s:
        return s.get(Address, address_id)


def test_validate_shows_the_standardised_address_zip4_and_dpv_next_to_what_was_typed(
        db, usps_fake, api):
    aid = _address(db, "12 Elm St", "62701")
    cmp = usps.validate_address(db, api, PREMIUM, aid)
    (token_req,) = usps_fake.requests_to("POST", "/oauth2/v3/token")
    assert token_req.json["grant_type"] == "client_credentials"
    (lookup,) = usps_fake.requests_to("GET", "/addresses/v3/address")
    assert lookup.query == {"streetAddress": "12 Elm St", "city": "Springfield", "state": "IL",
                            "ZIPCode": "62701"}
    assert lookup.headers["authorization"].startswith("Bearer ")
    assert (cmp.typed.line1, cmp.standardised.line1) == ("12 Elm St", "12 ELM ST")
    assert cmp.standardised.postal_code == "62701-1234"
    assert cmp.result.dpv == "Y" and cmp.same  # only case and the ZIP+4 differ
    assert cmp.sentences == ["USPS confirms this address is deliverable."]


def test_the_older_field_names_are_read_the_same_way(db, usps_fake, api):
    aid = _address(db, "88 Maple Dr", "62702")
    current = usps.validate_address(db, api, PREMIUM, aid)
    usps_fake.legacy = True
    older = usps.validate_address(db, api, PREMIUM, aid)
    assert older.result == current.result
    assert older.result.dpv == "D" and older.result.corrections[0].code == "32"


def test_accept_stores_the_usps_form_and_the_validated_date(db, usps_fake, api):
    aid = _address(db, "400 Oak Avenue", "62704")
    cmp = usps.validate_address(db, api, PREMIUM, aid)
    assert set(cmp.differences) == {"street", "line 2"}
    av.accept(db, cmp)
    a = _stored(db, aid)
    assert (a.line1, a.line2, a.postal_code) == ("400 OAK AVE", "APT 2", "62704-5678")
    assert a.validated_at is not None and a.kind == "service"


def test_keep_flags_a_confirmed_address_as_typed(db, usps_fake, api):
    aid = _address(db, "400 Oak Avenue", "62704")
    av.keep(db, usps.validate_address(db, api, PREMIUM, aid))
    a = _stored(db, aid)
    assert (a.line1, a.postal_code) == ("400 Oak Avenue", "62704") and a.validated_at


def test_an_address_missing_its_unit_is_explained_and_cannot_be_kept(db, usps_fake, api):
    aid = _address(db, "88 Maple Dr", "62702")
    cmp = usps.validate_address(db, api, PREMIUM, aid)
    assert cmp.sentences == [
        "USPS found the building, but the address needs an apartment, suite or unit number.",
        "More information is needed (an apartment, suite or box number) to match one address."]
    with pytest.raises(DomainError, match="did not confirm"):
        av.keep(db, cmp)
    assert _stored(db, aid).validated_at is None


def test_an_address_changed_since_the_lookup_is_not_overwritten(db, usps_fake, api):
    aid = _address(db, "12 Elm St", "62701")
    cmp = usps.validate_address(db, api, PREMIUM, aid)
    cid = _stored(db, aid).client_id
    clients.save_client(db, cid, clients.ClientData(name="Owner of 12 Elm St"), None, [
        clients.AddressData(line1="14 Elm St", city="Springfield", region="IL",
                            postal_code="62701", id=aid)])
    with pytest.raises(DomainError, match="changed elsewhere"):
        av.accept(db, cmp)
    assert _stored(db, aid).line1 == "14 Elm St"


def test_not_found_and_unreadable_addresses_are_explained(db, usps_fake, api):
    aid = _address(db, "1 Nowhere Rd", "62701")
    with pytest.raises(AddressProblem, match="found no such address"):
        usps.validate_address(db, api, PREMIUM, aid)
    usps_fake.fail(400, {"apiVersion": "/addresses/v3", "error": {
        "code": "400", "message": "OASValidation AddressesAPI-v3 with 1 error(s)",
        "errors": [{"status": "400", "detail": "state must be 2 letters"}]}},
        path="/addresses/v3/address")
    with pytest.raises(AddressProblem, match="could not use this address: .*state must be 2"):
        usps.validate_address(db, api, PREMIUM, aid)


def test_a_foreign_address_is_not_sent(db, usps_fake, api):
    aid = _address(db, "10 Downing St", "SW1A 2AA", city="London", country="GB")
    with pytest.raises(DomainError, match="US addresses only"):
        usps.validate_address(db, api, PREMIUM, aid)
    assert usps_fake.requests == []


def test_a_rate_limit_waits_as_told_then_answers(db, usps_fake):
    aid = _address(db, "12 Elm St", "62701")
    usps_fake.fail(429, {"error": {"code": "429", "message": "Too Many Requests"}},
                   headers={"Retry-After": "4"}, path="/addresses/v3/address")
    sleeps: list[float] = []
    client = _client_for(usps_fake.base, sleeps=sleeps)
    assert usps.validate_address(db, client, PREMIUM, aid).result.dpv == "Y"
    client.close()
    assert sleeps == [4.0]


def test_an_expired_token_is_renewed_once(db, usps_fake, api):
    aid = _address(db, "12 Elm St", "62701")
    usps.validate_address(db, api, PREMIUM, aid)
    usps_fake.expire_tokens()
    assert usps.validate_address(db, api, PREMIUM, aid).result.dpv == "Y"
    assert len(usps_fake.requests_to("POST", "/oauth2/v3/token")) == 2


def test_bad_credentials_say_so_without_the_secret(usps_fake):
    client = _client_for(usps_fake.base, secret="not-the-secret-42")
    with pytest.raises(IntegrationError, match="refused the client id and secret") as err:
        client.test_connection()
    assert "not-the-secret-42" not in str(err.value)
    assert _client_for(usps_fake.base).test_connection() == \
        "Connected to USPS; addresses can be validated."


def test_validate_all_accepts_exact_matches_lists_the_rest_and_stops_at_the_quota(db, usps_fake,
                                                                                  api):
    exact = _address(db, "12 Elm St", "62701")
    differs = _address(db, "400 Oak Avenue", "62704")
    missing = _address(db, "1 Nowhere Rd", "62701")
    later = _address(db, "88 Maple Dr", "62702")
    usps_fake.fail(429, {"error": {"code": "429", "message": "Quota exceeded"}}, times=99,
                   path="/addresses/v3/address")
    usps_fake.faults[0].times = 0  # armed below, after three lookups went through

    report = usps.validate_unvalidated(db, api, PREMIUM, limit=3)
    assert len(report.accepted) == 1 and _stored(db, exact).validated_at is not None
    assert [c.address_id for c in report.to_review] == [differs]
    assert _stored(db, differs).validated_at is None  # waits for the person
    assert len(report.problems) == 1 and "found no such address" in report.problems[0]
    assert report.last_id == missing and report.stopped is None

    usps_fake.faults[0].times = 99  # the hourly quota is spent
    rest = usps.validate_unvalidated(db, api, PREMIUM, after_id=report.last_id)
    assert rest.stopped and "rate limit" in rest.stopped and "gave up" in rest.stopped
    assert rest.last_id == missing and _stored(db, later).validated_at is None


def test_usps_needs_the_premium_tier(db, usps_fake, api):
    aid = _address(db, "12 Elm St", "62701")
    with pytest.raises(FeatureLocked, match="USPS address validation needs the Premium tier"):
        usps.validate_address(db, api, "free", aid)
    assert usps_fake.requests == []


def test_an_ambiguous_address_is_explained_in_plain_words():
    result = av.UspsResult(street="", dpv="N", corrections=(
        av.Notice("22", "Multiple addresses were found for the information you entered"),))
    assert result.explain() == [
        "USPS could not confirm this address as deliverable.",
        "More than one address matches; add detail such as the ZIP code, a direction (N, S) "
        "or the street type (St, Ave)."]


@pytest.mark.parametrize("fault, words", [
    ("500", "had a server error"),
    ("timeout", "did not answer within 0.3 s"),
    ("refused", "could not be reached"),
])
def test_outages_are_retried_a_bounded_number_of_times_then_explained(db, usps_fake, fault,
                                                                       words):
    aid = _address(db, "12 Elm St", "62701")
    base = usps_fake.base
    if fault == "500":
        usps_fake.fail(500, {"error": {"code": "500", "message": "Internal error"}}, times=9,
                       path="/addresses/v3/address")
    elif fault == "timeout":
        usps_fake.slow(1.0, times=9, path="/oauth2")
    else:
        from tests.fakes.loopback import closed_port_url

        base = closed_port_url()
    sleeps: list[float] = []
    client = UspsClient(Secret(CLIENT_ID), Secret(CLIENT_SECRET), api_base=base, timeout=0.3,
                        policy=FAST, sleep=sleeps.append)
    with pytest.raises(IntegrationError, match=words) as err:
        usps.validate_address(db, client, PREMIUM, aid)
    client.close()
    assert "gave up after 3 tries" in str(err.value) and len(sleeps) == 2
    assert _stored(db, aid).validated_at is None
