"""Demo data through the real RPCs, so every indicator of the report has something to
show: veterans (Faker zh_CN names, ID numbers valid for their county and birth year),
enterprises, employers and postings, hires, loans by both workflows (the bureau's own, and
referred to a demo partner bank whose reports go through loans' signed HTTP when the demo
knows the bank's secret), subsidies, training with certificates, mentors, a fair,
contacts."""

import datetime as dt
import json
import os
import random
import time
import urllib.error
import urllib.request
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from stdnum.cn import ric

from shared.clock import bureau_clock
from shared.http import signature
from shared.jurisdiction import Jurisdiction
from shared.taxonomy import Taxonomy

CENT = Decimal("0.01")

USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def id_number(rng, county, birth):
    body = f"{county}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum drops a check digit it expects


def uscc(rng, county):
    """A unified social credit code with a valid check character (GB 32100-2015)."""
    body = (
        "91"
        + county
        + "".join(rng.choice(USCC_ALPHABET[:10]) for _ in range(2))
        + "".join(rng.choice(USCC_ALPHABET) for _ in range(7))
    )
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


# Last year's discharges, the annual form's cohort: how they are doing (weights).
COHORT_STATUSES = {
    "employed": 30,
    "flexible": 10,
    "self_employed": 8,
    "returned_farming": 10,
    "back_to_school": 5,
    "admitted_by_exam": 5,
    "unemployed": 32,
}


def last_years_cohort(cohort, record, today):
    """Make about a third of the cards last year's discharges with the form's statuses (and
    some waiting veterans recognised as in employment difficulty), drawn from ``cohort``, a
    generator of their own, so that every other demo figure stays as it was for a seed."""
    if cohort.random() >= 0.3:
        return record
    discharged = dt.date(today.year - 1, cohort.randint(1, 12), 1)
    status = cohort.choices(list(COHORT_STATUSES), list(COHORT_STATUSES.values()))[0]
    record = {
        **record,
        "discharged_on": discharged.isoformat(),
        "enlisted_on": dt.date(discharged.year - cohort.randint(2, 8), 9, 1).isoformat(),
        "employment_status": status,
    }
    record.pop("employer", None)
    if status == "unemployed" and cohort.random() < 0.4:
        record["employment_difficulty"] = {
            "recognised": True,
            "reasons": [cohort.choice(["long_term_unemployed", "low_skills", "older_age"])],
            "help": cohort.sample(["job_referral", "skills_training", "public_welfare_post"], 1)
            if cohort.random() < 0.7
            else [],
        }
    return record


def veterans(rng, fake, n, today, cohort=None):
    cohort = cohort or random.Random(7)
    jurisdiction = Jurisdiction.load()
    counties = jurisdiction.codes()
    # Each card at a village station of its county (when the county lists any), picked
    # from its ID number rather than the generator, so every other demo figure stays as it
    # was for a given seed.
    villages = {
        county: [s.code for s in jurisdiction.stations_of(county) if s.level == "village"]
        for county in counties
    }
    taxonomy = Taxonomy.load()
    skills, occupations = sorted(taxonomy.codes("skills")), sorted(taxonomy.codes("occupations"))
    seen = set()
    for _ in range(n):
        county = rng.choice(counties)
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(365 * 35))
        number = id_number(rng, county, birth)
        if number in seen:
            continue
        seen.add(number)
        discharged = dt.date(
            min(birth.year + rng.randint(20, 35), today.year - 1), rng.randint(1, 12), 1
        )
        willingness = rng.choices(["job", "business", "training", "none"], [55, 25, 12, 8])[0]
        status = rng.choices(
            ["unemployed", "employed", "self_employed", "flexible"], [55, 25, 10, 10]
        )[0]
        record = {
            "id_number": number,
            "name": fake.name(),
            "phone": fake.phone_number(),
            "county_code": county,
            "station_code": (
                villages[county][int(number[10:17]) % len(villages[county])]
                if villages[county]
                else None
            ),
            "address": fake.street_address(),
            "branch": rng.choice(["army", "navy", "air_force", "armed_police"]),
            "enlisted_on": dt.date(discharged.year - rng.randint(2, 12), 9, 1).isoformat(),
            "discharged_on": discharged.isoformat(),
            "discharge_type": rng.choices(["self_employment", "assigned_job"], [85, 15])[0],
            "skills": rng.sample(skills, rng.randint(0, 3)),
            "intentions": {
                "occupations": rng.sample(occupations, rng.randint(1, 2)),
                "counties": [county],
                "min_salary": rng.randrange(3000, 7001, 500),
            },
            "willingness": willingness,
            "employment_status": status,
            "service_needs": rng.sample(
                ["job_referral", "skills_training", "startup_loan", "policy_consultation"],
                rng.randint(1, 2),
            ),
        }
        if status == "employed":
            record["employer"] = fake.company()
        record = last_years_cohort(cohort, record, today)
        if record["employment_status"] == "employed" and not record.get("employer"):
            record["employer"] = f"{jurisdiction.name_of(county)}{cohort.choice(EMPLOYERS)}"
        yield record


EMPLOYERS = ("物流有限公司", "保安服务有限公司", "农业发展有限公司", "建设工程有限公司")


def bureau_today(client):
    """The bureau's day as the services keep it (registry's ``health()``), so the demo's
    dates pass their rules whatever zone the operator's machine is set to."""
    return dt.date.fromisoformat(client.call("registry", "health")["today"])


def run(client, n, seed=2026, echo=print):
    rng, today = random.Random(seed), bureau_today(client)
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    counties = Jurisdiction.load().codes()
    taxonomy = Taxonomy.load()
    occupations = sorted(taxonomy.codes("occupations"))
    created = []
    batch = list(veterans(rng, fake, n, today, random.Random(seed + 1)))
    for start in range(0, len(batch), 500):
        part = batch[start : start + 500]
        results = client.call("registry", "register_veterans", part)["results"]
        created += [(r["id"], part[i]) for i, r in enumerate(results) if r["status"] == "created"]
    echo(f"demo: {len(created)} veterans registered")

    # Enterprises founded by those who want a business.
    founders = [(vid, rec) for vid, rec in created if rec["willingness"] == "business"]
    cohort_kinds = random.Random(seed + 2)
    shops = []  # founders of individual businesses: the self-employed tax relief
    for vid, rec in founders[: max(1, len(founders) // 2)]:
        kind = rng.choice(["enterprise", "individual_business"])
        if kind == "individual_business" and cohort_kinds.random() < 0.3:
            kind = "cooperative"  # a farmers' cooperative (its own generator, as above)
        data = {
            "kind": kind,
            "name": fake.company(),
            "county_code": rec["county_code"],
            "industry": rng.choice(["logistics", "ecommerce", "agriculture", "catering"]),
            "founded_on": (today - dt.timedelta(days=rng.randint(30, 900))).isoformat(),
            "stage": rng.choice(["startup", "operating"]),
            "founder_ids": [vid],
            "employees": (staff := rng.randint(1, 30)),
            "veteran_employees": rng.randint(1, min(5, staff)),
        }
        if kind == "enterprise":
            data["uscc"] = uscc(rng, rec["county_code"])
        client.call("registry", "register_enterprise", data)
        if kind == "individual_business":
            shops.append(vid)

    # Employers, postings, a fair; applications and hires once jobs knows the veterans.
    employers = [
        client.call(
            "jobs",
            "register_employer",
            {
                "name": fake.company(),
                "uscc": uscc(rng, county),
                "county_code": county,
                "industry": rng.choice(["logistics", "security_services", "manufacturing"]),
            },
        )
        for county in counties
    ]
    postings = []
    for employer in employers:
        for _ in range(4):
            low = rng.randrange(3000, 6001, 500)
            postings.append(
                client.call(
                    "jobs",
                    "post_job",
                    {
                        "employer_id": employer["id"],
                        "title": fake.job()[:30],
                        "occupation": rng.choice(occupations),
                        "county_code": employer["county_code"],
                        "salary_min": low,
                        "salary_max": low + 2000,
                        "openings": rng.randint(2, 8),
                        "dedicated": rng.random() < 0.4,
                        "closes_on": (today + dt.timedelta(days=rng.randint(20, 90))).isoformat(),
                    },
                )
            )
    client.call(
        "jobs",
        "schedule_fair",
        {
            "title": "退役军人专场招聘会",
            "county_code": counties[0],
            "mode": "hybrid",
            "starts_at": bureau_clock().now().isoformat(),
            "stream_url": "https://live.example.cn/veterans",
            "venue": "人力资源市场",
            "employer_ids": [e["id"] for e in employers[:3]],
        },
    )
    seekers = [
        vid
        for vid, rec in created
        if rec["employment_status"] == "unemployed" and rec["willingness"] == "job"
    ]
    _wait_known(client, "jobs", seekers[-1:] or [created[-1][0]])
    hires = 0
    # The hire's terms (an employer's tax relief needs a contract of a year and social
    # insurance): some shorter, some uninsured. Their own generator keeps the rest as it was.
    terms, hiring = random.Random(seed + 5), []
    for vid in seekers[: max(1, len(seekers) // 3)]:
        matches = client.call("jobs", "match_jobs", vid, 3)
        if not matches:
            continue
        application = client.call(
            "jobs",
            "apply",
            {"veteran_id": vid, "posting_id": matches[0]["posting"]["id"], "channel": "referral"},
        )
        client.call("jobs", "advance_application", application["id"], "offered")
        if rng.random() < 0.8:
            try:
                client.call(
                    "jobs",
                    "hire",
                    application["id"],
                    {
                        "started_on": today.isoformat(),
                        "salary": rng.randrange(4000, 7001, 500),
                        "contract_months": terms.choice([6, 12, 24, 36, 36]),
                        "social_insurance": terms.random() < 0.8,
                    },
                )
                hires += 1
                hiring.append(matches[0]["posting"]["employer_id"])
            except Exception:  # the posting filled up meanwhile: an offer stays an offer
                pass
    echo(f"demo: {len(employers)} employers, {len(postings)} postings, {hires} hires")

    # Loans and subsidies for founders; training with results.
    loans = 0
    for vid, _ in founders[:10]:
        try:
            loan = client.call(
                "loans",
                "apply_loan",
                {
                    "veteran_id": vid,
                    "product_code": "yongjun_chuangye",
                    "amount": f"{rng.randrange(50000, 300001, 10000)}.00",
                    "term_months": 24,
                    "purpose": "扩大经营",
                },
            )
        except Exception:  # not eligible (age, county): the demo moves on
            continue
        client.call("loans", "approve_loan", loan["id"], {})
        client.call("loans", "disburse_loan", loan["id"], {"disbursed_on": today.isoformat()})
        client.call(
            "loans",
            "grant_subsidy",
            {"veteran_id": vid, "kind": "startup", "amount": "5000.00", "period": str(today.year)},
        )
        loans += 1
    reliefs = _tax_relief(client, shops, hiring, today.year, random.Random(seed + 6))
    echo(f"demo: {reliefs} tax relief records (within each computed entitlement)")
    referred = referrals(client, rng, founders[10:16], today, echo)
    base = client.call(
        "training",
        "register_base",
        {
            "name": "昌吉州退役军人职业技能培训学校",
            "kind": "training",
            "county_code": counties[0],
            "capacity": 300,
        },
    )
    client.call(
        "training",
        "register_base",
        {
            "name": "退役军人创业孵化基地",
            "kind": "incubation",
            "county_code": counties[0],
            "capacity": 40,
        },
    )
    course = client.call(
        "training",
        "open_course",
        {
            "title": "消防设施操作员（初级）",
            "occupation": "fire_facility_operator",
            "certificate_name": "消防设施操作员证",
            "skills_granted": ["fire_facility_operator"],
            "theory_hours": 40,
            "practical_hours": 60,
            "mode": "hybrid",
            "base_id": base["id"],
        },
    )
    cohort = client.call(
        "training",
        "open_cohort",
        course["id"],
        {
            "starts_on": (today + dt.timedelta(days=1)).isoformat(),
            "ends_on": (today + dt.timedelta(days=30)).isoformat(),
            "capacity": 40,
        },
    )
    trainees = [vid for vid, rec in created if rec["county_code"] == counties[0]][:20]
    _wait_known(client, "training", trainees[-1:])
    certified = 0
    for vid in trainees:
        enrollment = client.call("training", "enroll", cohort["id"], vid)
        result = client.call(
            "training",
            "record_result",
            enrollment["id"],
            {"theory_score": rng.randint(50, 100), "practical_score": rng.randint(55, 100)},
        )
        certified += bool(result["certificate"])
    client.call(
        "training",
        "register_mentor",
        {"name": fake.name(), "field": "电子商务", "county_code": counties[0]},
    )
    echo(f"demo: {loans} loans, {len(trainees)} trainees, {certified} certificates")
    contacts = 0
    for vid, rec in created[:30]:
        if (
            client.try_call(
                "followup",
                "record_contact",
                {
                    "veteran_id": vid,
                    "county_code": rec["county_code"],
                    "channel": "phone",
                    "topic": "policy_consultation",
                },
            )
            is not None
        ):
            contacts += 1
    echo(f"demo: {contacts} contacts recorded")
    return {
        "veterans": len(created),
        "hires": hires,
        "loans": loans,
        "referred": referred,
        "certified": certified,
        "tax_relief_records": reliefs,
    }


# -- loans referred to a (demo) partner bank --------------------------------------------------
REFERRAL_PRODUCT = "tuiyi_junren_chuangye"
DEMO_BANKS = ("demo_bank_a", "demo_bank_b")


def referrals(client, rng, founders, today, echo):
    """Applications for the referral product, verified and referred to the demo banks; the
    banks decide (one rejection, one left waiting), disburse and revisit, through loans'
    signed HTTP when the demo knows their secrets (``bank_reporter``), else entered by an
    operator's RPCs. Returns how many were referred."""
    report = bank_reporter(client)
    referred, over_http = 0, report is not None
    for index, (vid, _) in enumerate(founders):
        try:
            loan = client.call(
                "loans",
                "apply_loan",
                {
                    "veteran_id": vid,
                    "product_code": REFERRAL_PRODUCT,
                    "amount": f"{rng.randrange(50000, 200001, 10000)}.00",
                    "term_months": 36,
                    "purpose": "创办个体经营",
                },
            )
        except Exception:  # not eligible (age, county): the demo moves on
            continue
        bank = DEMO_BANKS[index % 2]
        client.call("loans", "refer_loan", loan["id"], {"bank_code": bank, "note": "身份已核验"})
        referred += 1
        if index == len(founders) - 1:
            continue  # one left waiting for its bank's decision
        if index == 0:
            decision = {"outcome": "rejected", "reason": "经营计划需补充"}
            _bank_report(client, report, bank, loan["id"], "decision", decision)
            continue
        amount = f"{int(loan['amount'].split('.')[0]) - 10000}.00"
        reports = (
            (
                "decision",
                {
                    "outcome": "approved",
                    "approved_amount": amount,
                    "term_months": 24,
                    "annual_rate": "0.0385",
                },
            ),
            ("disbursement", {"disbursed_on": today.isoformat()}),
            ("revisits", {"visited_on": today.isoformat(), "outcome": "operating"}),
        )
        for kind, body in reports:
            _bank_report(client, report, bank, loan["id"], kind, body)
    how = "the banks' signed HTTP" if over_http else "an operator's RPCs (no bank secret known)"
    echo(f"demo: {referred} loans referred to demo banks, reported through {how}")
    return referred


OPERATOR_RPC = {
    "decision": "record_bank_decision",
    "disbursement": "record_bank_disbursement",
    "repayments": "record_bank_repayment",
    "revisits": "record_bank_revisit",
}


def _bank_report(client, report, bank, loan_id, kind, body):
    """Through the bank's HTTP when there is one; a refusal there (a web server of another
    system on the address: it knows no such loan) falls back to the operator's RPC, which
    says what is wrong if the report itself is."""
    if report is not None:
        try:
            report(bank, f"/bank/loans/{loan_id}/{kind}", body)
            return
        except (RuntimeError, OSError):
            pass
    client.call("loans", OPERATOR_RPC[kind], loan_id, body)


def bank_reporter(client, timeout=10):
    """``report(bank, path, body)`` that POSTs a bank's signed report to loans' HTTP, when
    the demo knows the banks' secrets (BANK_HMAC_SECRETS, else the .local/bank.secrets that
    `make up` writes) and loans' web server answers (WEB_SERVER_ADDRESS_LOANS, else its
    default 127.0.0.1:8100); else None."""
    raw = os.environ.get("BANK_HMAC_SECRETS")
    if not raw:
        local = Path(os.environ.get("LOCAL_DIR") or Path(__file__).resolve().parents[1] / ".local")
        path = local / "bank.secrets"
        raw = path.read_text(encoding="utf-8").strip() if path.exists() else ""
    secrets: dict[str, str] = {}  # the first secret of each bank signs
    for item in raw.split(","):
        code, _, secret = item.strip().partition("=")
        if code and secret:
            secrets.setdefault(code, secret)
    address = os.environ.get("WEB_SERVER_ADDRESS_LOANS") or "127.0.0.1:8100"
    base = f"http://{address}"
    try:
        with urllib.request.urlopen(f"{base}/bank/openapi.json", timeout=timeout):
            pass
    except (OSError, urllib.error.URLError):
        return None
    if not all(bank in secrets for bank in DEMO_BANKS):
        return None

    def report(bank, path, body):
        data = json.dumps(body).encode()
        stamp = str(int(bureau_clock().now().timestamp()))
        headers = {  # as services/loans/bank_http.py checks them (shared/http.py's signing)
            "X-Bank-Code": bank,
            "X-Bank-Timestamp": stamp,
            "X-Bank-Signature": signature(secrets[bank], stamp, "POST", path, "", data),
            "Content-Type": "application/json",
        }
        request = urllib.request.Request(f"{base}{path}", data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as exc:  # say what the endpoint refused, and why
            raise RuntimeError(f"{path}: {exc.code} {exc.read().decode('utf-8')}") from None

    return report


def _wait_known(client, service, veteran_ids, timeout=60):
    """Until ``service`` has heard of the veterans from registry's events."""
    method = {"jobs": ("match_jobs", 1), "training": ("recommend_courses",)}[service]
    deadline = time.monotonic() + timeout
    for vid in veteran_ids:
        while client.try_call(service, method[0], vid, *method[1:]) is None:
            if time.monotonic() > deadline:
                return
            time.sleep(0.5)


def _tax_relief(client, veteran_ids, employer_ids, year, rng, timeout=30):
    """Relief actually deducted, recorded against what the rules give: part of each
    founder's (individual business) and each hiring employer's entitlement for ``year``,
    never more than the tax the record states was due. Waits for loans to have heard of
    the businesses and hires; returns how many were recorded."""
    deadline, recorded = time.monotonic() + timeout, 0
    subjects = [{"veteran_id": vid} for vid in veteran_ids[:10]]
    subjects += [{"employer_id": employer_id} for employer_id in dict.fromkeys(employer_ids)]
    for subject in subjects:
        while True:  # until loans has heard of the business (or of the employer's hires)
            got = client.try_call("loans", "tax_relief_entitlement", subject, year)
            if got and ("employer_id" in subject or _heard_of_business(got)):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not got or not got["eligible"]:
            continue  # not 自主就业, no qualifying hire, or loans has not heard yet
        remaining = Decimal(got["remaining"])
        tax_due = (remaining * Decimal(rng.choice(["0.6", "0.8", "1.2"]))).quantize(CENT)
        amount = min(remaining, tax_due) * Decimal(rng.choice(["0.5", "0.75", "1"]))
        if amount < CENT:
            continue
        client.call(
            "loans",
            "record_tax_relief",
            {
                **subject,
                "tax_year": year,
                "amount": f"{amount.quantize(CENT, rounding=ROUND_DOWN)}",
                "tax_due": f"{tax_due}",
                "note": "演示：已抵减税额",
            },
        )
        recorded += 1
    return recorded


def _heard_of_business(entitlement):
    return any(
        c["code"] == "individual_business_registered" and c["passed"]
        for c in entitlement["criteria"]
    )
