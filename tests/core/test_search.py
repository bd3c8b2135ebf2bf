"""Search as you type (core.search) on both backends: clients, contacts by name, email and
phone, addresses, document numbers (issued or sent only), prefixes, several words, edits
and deletions reaching the index through the triggers, and naughty strings as queries."""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import select, text

from core import clients, search
from core.clients import AddressData, ClientData, ContactData
from core.models import Client, Invoice, Job, Proposal


@pytest.fixture
def book(db):
    """A small client book; returns the ids by a short name."""
    ids = {}
    ids["acme"] = clients.create_client(
        db, ClientData(name="Acme Lawn Care", kind="company", company_name="Acme Holdings"),
        [ContactData(name="Jane Doe", email="jane.doe@example.com", phone="(415) 555-2671")],
        [AddressData(line1="12 Main St", city="Springfield", region="IL", postal_code="62701")],
    )
    ids["janet"] = clients.create_client(
        db, ClientData(name="Janet Smith"),
        [ContactData(name="Bob Smith", email="bob@smith.example", phone="+44 20 7946 0958")],
        [AddressData(line1="9 Shore Rd", city="Lakeview", postal_code="49946")],
    )
    ids["zoe"] = clients.create_client(db, ClientData(name="Zoë Renée Łukasz"))
    with db.write() as s:
        invoice = Invoice(client_id=ids["acme"], status="issued", number="INV-0042")
        draft = Invoice(client_id=ids["acme"], status="draft")
        sent = Proposal(client_id=ids["janet"], status="sent", number="PRO-2026-0007", title="Spring cleanup")
        draft_proposal = Proposal(client_id=ids["janet"], status="draft", title="Gutter guards")
        job = Job(client_id=ids["acme"], number="JOB-0003", title="Hedge trimming")
        s.add_all([invoice, draft, sent, draft_proposal, job])
        s.flush()
        ids.update(invoice=invoice.id, draft=draft.id, proposal=sent.id,
                   draft_proposal=draft_proposal.id, job=job.id)
        ids["jane_contact"] = s.get(Client, ids["acme"]).contacts[0].id
        ids["bob_contact"] = s.get(Client, ids["janet"]).contacts[0].id
        ids["main_st"] = s.get(Client, ids["acme"]).addresses[0].id
    return ids


def _hits(db, query, **kw):
    return {(h.kind, h.ref_id) for h in search.search(db, query, **kw)}


def test_clients_by_name_and_company_with_prefixes(db, book):
    assert ("client", book["acme"]) in _hits(db, "acm")
    assert ("client", book["acme"]) in _hits(db, "HOLDINGS")  # company name, any case
    assert _hits(db, "łukasz") == {("client", book["zoe"])}
    hit = next(h for h in search.search(db, "acme") if h.kind == "client")
    assert (hit.label, hit.client_id) == ("Acme Lawn Care", book["acme"])


def test_typing_without_accents_finds_accented_names(db, book):
    assert _hits(db, "zoe renee") == {("client", book["zoe"])}


def test_prefix_as_you_type_narrows_step_by_step(db, book):
    jane_or_janet = {("contact", book["jane_contact"]), ("client", book["janet"])}
    assert jane_or_janet <= _hits(db, "ja")
    assert _hits(db, "jan") >= jane_or_janet
    assert _hits(db, "jane") >= jane_or_janet  # "jane" is a prefix of "janet"
    assert _hits(db, "janet") == {("client", book["janet"])}
    assert _hits(db, "janete") == set()


def test_several_words_must_all_match(db, book):
    assert _hits(db, "jane smith") == {("client", book["janet"])}
    assert _hits(db, "smith bob") == {("contact", book["bob_contact"])}
    assert _hits(db, "jane doe") == {("contact", book["jane_contact"])}
    assert _hits(db, "doe smith") == set()


def test_contacts_by_email_and_phone_national_or_e164(db, book):
    jane = ("contact", book["jane_contact"])
    assert jane in _hits(db, "jane.doe@example.com")
    assert jane in _hits(db, "jane.doe@exa")
    assert _hits(db, "4155552671") == {jane}  # national digits
    assert _hits(db, "415555") == {jane}  # as you type
    assert _hits(db, "+14155552671") == {jane}  # E.164
    assert _hits(db, "+1415") == {jane}
    assert _hits(db, "+442079460958") == {("contact", book["bob_contact"])}
    assert _hits(db, "2079460958") == {("contact", book["bob_contact"])}


def test_an_email_being_typed_is_matched_as_typed(db, book):
    jane = ("contact", book["jane_contact"])
    # the words before the @ find the rows, the address as typed must be in them
    assert _hits(db, "JANE.DOE@EXAMPLE.COM") == {jane}
    assert _hits(db, "jane.doe@") == {jane}
    assert _hits(db, "doe@exam") == {jane}
    assert _hits(db, "bob@smith.ex") == {("contact", book["bob_contact"])}
    assert _hits(db, "jane.doe@other") == set()  # the right name at another domain
    assert _hits(db, "bob@example") == set()  # Bob's address is at smith.example
    assert _hits(db, "@example") >= {jane}  # nothing before the @: word by word


def test_addresses_by_street_city_and_zip(db, book):
    main = ("address", book["main_st"])
    assert main in _hits(db, "main")
    assert _hits(db, "springf") == {main}
    assert _hits(db, "62701") == {main}
    assert _hits(db, "12 main springfield") == {main}
    hit = next(h for h in search.search(db, "springfield"))
    assert hit.client_id == book["acme"] and hit.label == "12 Main St"


def test_document_numbers_only_once_issued_or_sent(db, book):
    assert _hits(db, "INV-0042") == {("invoice", book["invoice"])}
    assert _hits(db, "0042") == {("invoice", book["invoice"])}
    assert _hits(db, "PRO-2026-0007") == {("proposal", book["proposal"])}
    assert _hits(db, "JOB-0003") == {("job", book["job"])}
    assert {k for k, _ in _hits(db, "inv")} == {"invoice"}
    assert ("proposal", book["draft_proposal"]) not in _hits(db, "gutter")  # drafts are not indexed
    with db.write() as s:  # issuing the draft gives it a number: now it is found
        s.get(Invoice, book["draft"]).number = "INV-0043"
    assert _hits(db, "INV-0043") == {("invoice", book["draft"])}
    assert _hits(db, "inv") == {("invoice", book["invoice"]), ("invoice", book["draft"])}


def test_each_hit_names_the_client_it_belongs_to(db, book):
    named = {(h.kind, h.ref_id): h.client_name for h in search.search(db, "smith", limit=50)}
    assert named[("client", book["janet"])] == "Janet Smith"
    assert named[("contact", book["bob_contact"])] == "Janet Smith"  # Bob is Janet's contact
    by_number = search.search(db, "INV-0042")[0]
    assert (by_number.client_id, by_number.client_name) == (book["acme"], "Acme Lawn Care")
    with db.write() as s:  # a renamed client: its hits name it as it is now
        s.get(Client, book["acme"]).name = "Acme Garden Care"
    assert {h.client_name for h in search.search(db, "springfield")} == {"Acme Garden Care"}


def test_kinds_filter_and_limit(db, book):
    assert _hits(db, "ja", kinds=("client",)) == {("client", book["janet"])}
    assert {k for k, _ in _hits(db, "smith", kinds=("contact", "address"))} == {"contact"}
    assert len(search.search(db, "a", limit=2)) <= 2
    assert search.search(db, "ja", kinds=("no such kind",)) == []  # not every kind
    assert search.search(db, "   ") == [] and search.search(db, "@#$%") == []


def test_renamed_records_are_reindexed_and_deleted_ones_disappear(db, book):
    clients.save_client(
        db, book["janet"], ClientData(name="Janet Brown"),
        [ContactData(name="Robert Smith", email="rob@newmail.example", phone="+44 20 7946 0958",
                     id=book["bob_contact"])],
        [],  # the Shore Rd address is removed
    )
    assert _hits(db, "brown") == {("client", book["janet"])}
    assert ("client", book["janet"]) not in _hits(db, "janet smith")
    assert _hits(db, "newmail") == {("contact", book["bob_contact"])}
    assert _hits(db, "bob") == set()
    assert _hits(db, "lakeview") == set()
    with db.write() as s:  # deleting a client takes its contacts and addresses with it
        acme = s.get(Client, book["acme"])
        for model in (Invoice, Job):
            for row in s.scalars(select(model).where(model.client_id == acme.id)):
                s.delete(row)
        s.flush()
        s.delete(acme)
    for query in ("acme", "jane doe", "springfield", "INV-0042", "JOB-0003", "4155552671"):
        assert _hits(db, query) == set(), query


def _fold(text: str) -> str:
    """Lower case without diacritics: how both backends compare words."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return [_fold(w) for w in re.findall(r"[^\W_]+", text)]


def test_naughty_queries_never_raise_and_only_return_real_matches(db, book, naughty_strings):
    """Each hit must contain every query word as the start of one of its words."""
    def db_fold(term: str) -> str:
        # PostgreSQL folds with unaccent, which also maps letters NFKD keeps (ⱥ -> a)
        with db.read() as s:
            return s.scalar(text("SELECT tssg_fold(:t)"), {"t": term})

    for query in naughty_strings:
        hits = search.search(db, query, limit=50)
        terms = [_fold(t) if db.is_sqlite else db_fold(t) for t in search.terms(query)]
        for hit in hits:
            words = _words(f"{hit.label} {hit.detail}")
            for term in terms:
                assert any(w.startswith(term) for w in words), (query, term, hit)


def test_a_phone_number_typed_with_punctuation_finds_the_contact(db):
    cid = clients.create_client(
        db, clients.ClientData(name="Phone Person"),
        [clients.ContactData(name="Pat Caller", phone="+1 415 555 2671")],
    )
    for typed in ("(415) 555-2671", "415-555", "+1 415 555", "4155552671"):
        assert ("contact", cid) in {(h.kind, h.client_id) for h in search.search(db, typed)}, typed
    assert search.search(db, "(212) 555") == []


def test_credit_note_numbers_are_found_and_open_the_invoice_they_credit(db):
    """A credit note issued through the service is found by its number (or its digits) at
    once; the hit names the client and points at the invoice it credits; a voiding one too."""
    from decimal import Decimal

    from core import credit_notes, invoices
    from core.lines import LineData
    from core.models import CreditNote

    cid = clients.create_client(db, ClientData(name="Acme Lawn Care"))
    iid = invoices.create_blank(db, cid, [LineData("Lawn mowing", Decimal(1), 10000)])
    number = invoices.issue(db, iid, "2026-03-02")
    note = credit_notes.issue_credit_note(db, iid, 2500, "Missed a visit", issued_on="2026-03-03")
    with db.read() as s:
        cn_number = s.get(CreditNote, note).number
    assert cn_number != number and cn_number.startswith("CN")
    assert _hits(db, cn_number) == {("credit_note", iid)}
    hit = next(h for h in search.search(db, cn_number))
    assert (hit.label, hit.client_id) == (cn_number, cid)
    assert ("credit_note", iid) in _hits(db, "cn")  # as you type
    assert _hits(db, cn_number, kinds=("credit_note",)) == {("credit_note", iid)}
    credit_notes.void(db, iid, "Billed twice", issued_on="2026-03-04")
    assert len({h for h in search.search(db, "cn") if h.kind == "credit_note"}) == 2
    # kept in step by the triggers: a renumbered (or deleted) note moves in the index
    with db.write() as s:
        s.get(CreditNote, note).number = "CN-RENUMBERED-1"
    assert _hits(db, "renumbered") == {("credit_note", iid)} and _hits(db, cn_number) == set()
    with db.write() as s:
        s.delete(s.get(CreditNote, note))
    assert _hits(db, "renumbered") == set()
