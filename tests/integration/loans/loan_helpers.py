"""What loans' integration tests share: the frozen start, an application, loans' events."""

import datetime as dt

START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Changji


def application(veteran_id, **fields):
    return {
        "veteran_id": veteran_id,
        "product_code": "yongjun_chuangye",
        "amount": "100000.00",
        "term_months": 24,
        "purpose": "开办物流公司",
        **fields,
    }


def loan_events(db):
    with db.cursor() as cur:
        cur.execute(
            "SELECT routing_key, body->'data' FROM loans.outbox"
            " WHERE routing_key <> 'loan_eligibility_assessed' ORDER BY id"
        )
        return cur.fetchall()
