"""Each collected formula (server/grants/presets.py, docs/grants.md) on a worked example,
computed by hand from the council's published rule and written out in the comment."""

from __future__ import annotations

from datetime import date, time, timedelta

from server.grants.presets import PROFESSIONAL, preset_rules
from server.grants.rules import Member, SessionIn, evaluate

FY = 2025


def session(day: date, hours: float = 2, cost: int | None = None, seniors: int = 10, professional: bool = True):
    end = time(10 + int(hours), round(hours % 1 * 60))
    return SessionIn(
        id=day.isoformat(),
        date=day,
        start_time=time(10),
        end_time=end,
        status="held",
        venue_cost=cost,
        participants=seniors,
        by_category={"senior": seniors},
        roles=frozenset({PROFESSIONAL, "受付"} if professional else {"受付"}),
    )


def monthly(day_of_month: int = 10, **kwargs) -> list[SessionIn]:
    return [session(date(FY + (m < 4), m, day_of_month), **kwargs) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


def weekly(count: int, **kwargs) -> list[SessionIn]:
    return [session(date(FY, 4, 2) + timedelta(days=7 * i), **kwargs) for i in range(count)]


def due(key: str, sessions, first=FY, **kwargs) -> int:
    return evaluate(preset_rules(key), sessions, FY, first, **kwargs).amount_due


def test_musashino():
    # 2か月に1回以上・2時間以上: six sessions in May, July, September, November, January, March.
    # 活動費 6 × 2,500 = 15,000; 会場費 4,000 → 2,500 once and 1,200 five times = 8,500; total 23,500.
    sessions = [session(date(FY + (m < 4), m, 1), cost=4000 if m == 5 else 1200) for m in (5, 7, 9, 11, 1, 3)]
    assert due("musashino", sessions) == 23500
    # Weekly with venue 2,500: 52 × 5,000 = 260,000 → the yearly cap of 100,000.
    assert due("musashino", weekly(52, cost=2500)) == 100000


def test_aomori():
    # 5万円 a year for up to three years from the start (first fiscal year 2023): 2023–2025, not 2026.
    assert [evaluate(preset_rules("aomori"), [], year, 2023).amount_due for year in (2023, 2025, 2026)] == [
        50000,
        50000,
        0,
    ]


def test_date_city():
    # 基礎額 15,000 (年6回以上) + 加算額 200 × 23 registered on 1 April + 立ち上げ 10,000 (first year) = 29,600.
    members = [Member(f"m{i}", "senior", since=date(2025, 3, 1)) for i in range(23)]
    members.append(Member("joined in May", "senior", since=date(2025, 5, 1)))  # not on the roster on 1 April
    sessions = monthly()[:8]
    assert due("date", sessions, members=members) == 15000 + 4600 + 10000
    # The next year with five sessions: no 基礎額, no start-up: 4,600 only.
    assert evaluate(preset_rules("date"), sessions[:5], FY, FY - 1, members=members).amount_due == 4600


def test_onga_town():
    # 5,000 × sessions, at most two a month; 初期費用 30,000 in the first year.
    # May 3 sessions (→ 2 paid: 10,000), June 1, September 1: 20,000 + 30,000 = 50,000.
    days = [date(FY, 5, 1), date(FY, 5, 15), date(FY, 5, 29), date(FY, 6, 12), date(FY, 9, 11)]
    sessions = [session(d) for d in days]
    assert due("onga", sessions) == 50000
    # Without the professional at the June session it does not count: 45,000. A second year: no 初期費用.
    sessions[3] = session(days[3], professional=False)
    assert due("onga", sessions) == 45000
    assert due("onga", sessions, first=FY - 1) == 15000
    # おおむね年4回以上: three sessions are not enough.
    assert due("onga", [session(d) for d in days[2:]], first=FY - 1) == 0


def test_makubetsu_town():
    # 1,000 × sessions, 12 a year at most: 14 sessions → 12,000.
    assert due("makubetsu", weekly(14)) == 12000
    assert due("makubetsu", weekly(9)) == 9000


def test_okagaki_town():
    # 月1回以上・2時間以上: 6,000 × 12 = 72,000. Twice a month: 24 × 6,000 = 144,000, the cap exactly;
    # a 25th session adds nothing.
    assert due("okagaki", monthly()) == 72000
    twice = monthly(5) + monthly(20)
    assert due("okagaki", twice) == 144000
    assert due("okagaki", twice + [session(date(FY, 4, 25))]) == 144000
    # A month without a session (no August): nothing is due.
    assert due("okagaki", [s for s in monthly() if s.date.month != 8]) == 0
    # A session of 1h30 does not count, so its month (April) has none.
    assert due("okagaki", [session(date(FY, 4, 10), hours=1.5)] + monthly()[1:]) == 0


def test_niigata_city_chanoma():
    # 2,500 × months with a session, up to 30,000: eleven months → 27,500; twelve → 30,000.
    assert due("niigata_chanoma", [s for s in monthly() if s.date.month != 8]) == 27500
    assert due("niigata_chanoma", monthly() + monthly(20)) == 30000


def test_niigata_city_club():
    # 活動割 3,000 × 12 months + 会員割 360 × 50 members on 1 April = 36,000 + 18,000 = 54,000.
    members = [Member(f"m{i}", "senior") for i in range(50)]
    assert due("niigata_club", monthly(), members=members) == 54000


def test_nanto_city():
    # 24 sessions with 540 older people in all: average 22.5 → 22, the 21–40 tier: 24 × 5,000 = 120,000.
    sessions = monthly(5, seniors=20) + monthly(20, seniors=25)
    assert due("nanto", sessions) == 120000
    # Average 41 and 52 sessions: 50 are paid at 8,000 = 400,000.
    assert due("nanto", weekly(52, seniors=41)) == 400000
    # Average 4 (fewer than 5 older people): no tier; three sessions: fewer than the four needed.
    assert due("nanto", monthly(seniors=4)) == 0
    assert due("nanto", monthly(seniors=10)[:3]) == 0


def test_kusatsu_city():
    # 年20回以上 → 50,000; 年10回以上 (and fewer than 20) → 25,000; 9 → none.
    assert due("kusatsu", weekly(20)) == 50000
    assert due("kusatsu", weekly(19)) == 25000
    assert due("kusatsu", weekly(9)) == 0


def test_ofunato_city():
    # 運営費 1,000 × 3 sessions; 会場賃借料 May 6,000 + 6,000 → 10,000 (月10,000円まで), June 4,000: 17,000.
    sessions = [session(date(FY, 5, d), cost=6000) for d in (1, 15)] + [session(date(FY, 6, 5), cost=4000)]
    assert due("ofunato", sessions) == 3000 + 10000 + 4000


def test_kazuno_city():
    # 年40回以上・2時間以上: 45 sessions × 1,200 = 54,000; 39 → nothing.
    assert due("kazuno", weekly(45)) == 54000
    assert due("kazuno", weekly(39)) == 0
