"""The client page shows the client's open tasks and latest service logs too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core import clients, jobs, tasks
from core.clients import AddressData, ClientData
from core.lines import LineData
from tests.tui.support import TODAY, make_app, screen_text, settle


async def test_open_tasks_and_service_logs_on_the_client_page(ui_db):
    cid = clients.create_client(ui_db, ClientData(name="Iris Vale"), [],
                                [AddressData(line1="3 Elm Dr", city="Boulder")])
    tasks.create_task(ui_db, tasks.TaskData(title="Call about [gate] code", due_date=TODAY - dt.timedelta(days=2),
                                            linked_type="client", linked_id=cid))
    done = tasks.create_task(ui_db, tasks.TaskData(title="Already done", linked_type="client",
                                                   linked_id=cid))
    tasks.complete_task(ui_db, done)
    job = jobs.create_job(ui_db, jobs.JobData(client_id=cid, title="Spring clean-up",
                                              lines=[LineData("Labour", Decimal(2), 5500)]))
    (visit,) = jobs.schedule_visits(ui_db, job, jobs.ScheduleData(
        start_date=TODAY - dt.timedelta(days=1), start_time=dt.time(9, 0), duration_minutes=90))
    jobs.complete_visit(ui_db, visit, jobs.ServiceLogData(minutes_spent=95, notes="Raked all beds"),
                        today=TODAY)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        text = screen_text(app)
    assert "Open tasks (1)" in text and "Call about [gate] code" in text and "overdue" in text
    tasks_part = text.split("Open tasks (1)", 1)[1].split("Service logs", 1)[0]
    assert "Already done" not in tasks_part  # done tasks are not open work
    assert "Service logs (1, newest)" in text and "Raked all beds" in text and "1h35" in text
