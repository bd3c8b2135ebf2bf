"""Search within a section's list (core.list_search), on both backends: documents by number,
title or their client's name, drafts by title, tasks by the words of their title; ``%`` and
``_`` typed are literal; rows come back in the list's own shape, newest first."""

from __future__ import annotations

from decimal import Decimal

from core import invoices, proposals
from core.lines import LineData
from core.list_search import find_invoices, find_jobs, find_proposals, find_tasks
from tests.core.factories import TODAY, make_client, make_job, make_proposal, make_task


def test_proposals_by_client_name_number_and_draft_title(db):
    harbor = make_client(db, "Harbor View Motel")
    lake = make_client(db, "Lakeside Montessori")
    sent = make_proposal(db, harbor, title="Window wash")
    proposals.send_proposal(db, sent, today=TODAY)
    draft = make_proposal(db, lake, title="Roof moss removal")
    older = make_proposal(db, harbor, title="Gutters")

    assert [r.id for r in find_proposals(db, "harbor", today=TODAY)] == [older, sent]
    assert [r.id for r in find_proposals(db, "MOSS rem", today=TODAY)] == [draft]
    number = proposals.get(db, sent).number
    (row,) = find_proposals(db, number, today=TODAY)
    assert (row.id, row.client_name, row.status) == (sent, "Harbor View Motel", "sent")
    assert find_proposals(db, "nothing like it", today=TODAY) == []
    assert find_proposals(db, "   ", today=TODAY) == []


def test_jobs_by_title_or_client_and_invoices_by_client(db):
    harbor = make_client(db, "Harbor View Motel")
    lake = make_client(db, "Lakeside Montessori")
    fence = make_job(db, harbor, title="Pool fence repair")
    make_job(db, lake, title="Hedge trimming")
    assert [r.id for r in find_jobs(db, "fence", today=TODAY)] == [fence]
    assert [r.id for r in find_jobs(db, "harbor", today=TODAY)] == [fence]

    draft = invoices.create_blank(db, lake, [LineData("Raking", Decimal(1), 7_000)])
    (row,) = find_invoices(db, "lakeside", today=TODAY)
    assert (row.id, row.status, row.total_cents) == (draft, "draft", 7_000)


def test_tasks_by_every_word_of_the_title_with_wildcards_taken_literally(db):
    iris = make_client(db, "Iris Vale")
    gate = make_task(db, "Ask about the gate code", linked_type="client", linked_id=iris)
    percent = make_task(db, "Raise prices 10% in May")
    make_task(db, "Raise prices in June")

    assert [r.id for r in find_tasks(db, "GATE code", today=TODAY)] == [gate]
    assert [r.id for r in find_tasks(db, "10%", today=TODAY)] == [percent]
    assert find_tasks(db, "pri_es", today=TODAY) == []  # "_" is not "any character"
    assert [r.id for r in find_tasks(db, "iris", today=TODAY)] == [gate]  # the client's name
    assert find_tasks(db, "gate", today=TODAY, status="done") == []


def test_a_task_search_may_mix_words_of_the_title_and_of_the_client(db):
    liam = make_client(db, "Liam Tanaka")
    zoe = make_client(db, "Zoe Mendoza")
    his = make_task(db, "Check gate code", linked_type="client", linked_id=liam)
    make_task(db, "Check gate code", linked_type="client", linked_id=zoe)
    assert [r.id for r in find_tasks(db, "gate liam", today=TODAY)] == [his]
