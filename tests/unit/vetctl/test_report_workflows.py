"""vetctl.report's loans by workflow: the bureau's own loans and those referred to a partner
bank, read from loans' ``stats.by_workflow``; empty when loans did not answer."""

from vetctl import report


def loans_stats():
    return {
        "loans": {
            "disbursed": 5,
            "disbursed_amount": "460000.00",
            "by_workflow": {
                "in_house": {"applications": 4, "disbursed": 3, "disbursed_amount": "300000.00"},
                "referral": {
                    "applications": 3,
                    "referred": 3,
                    "approved": 2,
                    "disbursed": 2,
                    "disbursed_amount": "160000.00",
                },
            },
        }
    }


def test_the_report_has_a_row_for_each_workflow():
    _, table = report.table({None: loans_stats()}, "zh")
    got = {key: (label, values) for key, label, values in table}
    assert got["loans_in_house"] == ("贷款（本局审批）（放款笔/元）", ["3 / 300000.00"])
    assert got["loans_referral"] == (
        "贷款（银行转介）（转介/银行审批/放款笔/元）",
        ["3 / 2 / 2 / 160000.00"],
    )
    assert got["loans"][1] == ["5 / 460000.00"]


def test_the_workflow_rows_are_empty_when_loans_did_not_answer():
    got = report.as_json({"652301": {"loans": None}})["652301"]
    assert got["loans_in_house"] is None and got["loans_referral"] is None
