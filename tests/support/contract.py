"""The inherited contract's bodies and helpers (`tests/contract/`): each body as the old docs print it.

Ids 1, 2, 3, 10 and 11 are the rows the contract's `contract_rows` fixture creates; the automation
the §1 body creates is 1 and its schedule 7 where `contract_ids` is used.
"""

API = "/api/v1"

CREATE_BODY = {
    "name": "Disparo Black Friday",
    "description": "Enviar oferta especial",
    "chatbot_id": 1,
    "flow_id": 2,
    "whatsapp_number_id": 3,
    "trigger_type": "manual",
    "trigger_config": {},
    "audience_type": "custom",
    "audience_config": {"contact_ids": [10, 11]},
    "variable_mapping": {
        "customer_name": "{{contact.name}}",
        "discount": "10%",
        "points": "{{contact.custom_fields.loyalty_points}}",
        "timestamp": "{{contact.created_at}}",
        "company": "{{contact.company}}",
    },
    "max_concurrent_executions": 50,
    "rate_limit_per_hour": 100,
}

AUTOMATION_FIELDS = {
    "status",
    "total_executions",
    "total_sent",
    "total_delivered",
    "total_read",
    "total_replied",
    "total_completed",
    "total_failed",
    "last_executed_at",
    "next_scheduled_at",
}
START_FIELDS = {"id", "automation_id", "execution_type", "status", "total_recipients", "started_at"}


def create_automation(client) -> dict:
    response = client.post(f"{API}/flow-automations", CREATE_BODY, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


NOW = "2025-11-19T13:00:00Z"  # Wednesday 10:00 in São Paulo, the day before the contract's start_date
SCHEDULE = f"{API}/flow-automations/1/schedule"
PREVIEW = f"{SCHEDULE}/preview?num_executions=10&days_ahead=90"

WEEKLY_BODY = {
    "recurrence_type": "weekly",
    "start_date": "2025-11-20T09:00:00Z",
    "start_time": "09:00:00",
    "recurrence_config": {"type": "weekly", "days": ["MON", "WED", "FRI"], "interval": 1},
    "execution_window_start": "09:00:00",
    "execution_window_end": "18:00:00",
    "execution_timezone": "America/Sao_Paulo",
    "skip_weekends": False,
    "skip_holidays": True,
    "is_active": True,
}
SCHEDULE_FIELDS = set(
    "id automation_id organization_id recurrence_type start_date start_time end_date recurrence_config "
    "execution_window_start execution_window_end execution_timezone blackout_dates skip_weekends skip_holidays "
    "is_active is_paused last_executed_at next_scheduled_at execution_count created_at updated_at".split()
)
SKIP_BODY = {
    "schedule_id": 7,
    "exception_type": "skip",
    "start_date": "2025-11-25T00:00:00Z",
    "end_date": "2025-11-26T23:59:59Z",
    "reason": "Black Friday",
}
RESCHEDULE_BODY = {
    "exception_type": "reschedule",
    "start_date": "2025-11-24T09:00:00Z",
    "rescheduled_to": "2025-11-25T14:00:00Z",
    "reason": "…",
}
MODIFY_BODY = {
    "exception_type": "modify",
    "start_date": "2025-11-25T00:00:00Z",
    "end_date": "2025-11-26T23:59:59Z",
    "modified_config": {"rate_limit_per_hour": 3000, "max_concurrent_executions": 150},
}
EXCEPTION_FIELDS = {"id", "schedule_id", "exception_type", "start_date", "end_date", "reason", "created_at"}
# MON/WED/FRI at 09:00 in São Paulo from Thursday 2025-11-20 (not one of the days).
WEEKLY_DATES = ["2025-11-21", "2025-11-24", "2025-11-26", "2025-11-28"] + [
    f"2025-12-{day:02d}" for day in (1, 3, 5, 8, 10, 12)
]


def at(days: list[str], clock: str = "12:00:00") -> list[str]:
    return [f"{day}T{clock}Z" for day in days]


SP = {"execution_timezone": "America/Sao_Paulo"}


def post_schedule(client, body: dict) -> dict:
    response = client.post(SCHEDULE, body, format="json")
    assert response.status_code == 201, response.json()
    assert SCHEDULE_FIELDS <= set(response.json())
    return response.json()


def preview(client) -> dict:
    response = client.get(PREVIEW)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["automation_id"], body["schedule_id"]) == (1, 7)
    for entry in body["next_executions"]:
        assert {"scheduled_at", "recurrence_type", "execution_window", "timezone"} <= set(entry)
    return body


def scheduled(body: dict) -> list[str]:
    return [entry["scheduled_at"] for entry in body["next_executions"]]


def post_exception(client, body: dict) -> dict:
    response = client.post(f"{SCHEDULE}/exceptions", body, format="json")
    assert response.status_code == 201, response.json()
    assert EXCEPTION_FIELDS <= set(response.json())
    return response.json()
