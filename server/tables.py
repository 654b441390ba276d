"""Every table of ibasho, in one Piccolo app (see ``piccolo_app.py``).

Conventions:
- Primary keys are UUIDs set in code (client-made ones are UUIDv7); the composite
  sync entities (attendance, tally, role assignment) use their wire id as a text key.
- Timestamps are ``Timestamptz``; wall-clock schedule values (dates, times) are plain
  ``Date``/``Time`` interpreted in the ibasho's or group's time zone.
- ``hlcs`` columns hold the hybrid logical clock of each field's last write
  (``{field: hlc}``) for per-field last-writer-wins merges.
- The schema changes only through a migration in ``migrations/``.
"""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from sync import limits


class Role(str, Enum):
    admin = "admin"
    staff = "staff"
    organiser = "organiser"


class IbashoKind(str, Enum):
    kodomo_shokudo = "kodomo_shokudo"  # こども食堂
    salon = "salon"  # いきいきサロン
    cafe = "cafe"  # 認知症カフェ・コミュニティカフェ
    chanoma = "chanoma"  # 地域の茶の間
    study = "study"  # 学習支援
    parenting = "parenting"  # 子育てサロン
    other = "other"


class Audience(str, Enum):
    anyone = "anyone"  # どなたでも
    seniors = "seniors"  # 主に高齢者
    children = "children"  # 子ども
    parents = "parents"  # 親子


class IbashoStatus(str, Enum):
    active = "active"  # 活動中
    paused = "paused"  # 休止中
    ended = "ended"  # 終了
    graduated = "graduated"  # 卒業 (from a grant programme)


class SessionKind(str, Enum):
    session = "session"  # 開催回
    meeting = "meeting"  # 会議 (推進委員会, 打ち合わせ, 反省会…)
    event = "event"  # 講座, 交流会, セミナー


class SessionStatus(str, Enum):
    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"
    postponed = "postponed"  # 延期


class ReviewState(str, Enum):
    unreviewed = "unreviewed"  # 確認待ち
    reviewed = "reviewed"  # 確認済み
    follow_up = "follow_up"  # 要フォロー


class AttendanceStatus(str, Enum):
    present = "present"
    absent_notified = "absent_notified"  # 連絡あり欠席
    absent_unnotified = "absent_unnotified"  # 無断欠席
    unmarked = "unmarked"  # 未記録 again: a mis-tap taken back


class SafetyCheckOutcome(str, Enum):
    open = "open"
    safe = "safe"  # 無事
    unreachable = "unreachable"  # 連絡つかず
    needs_support = "needs_support"  # 要支援
    withdrawn = "withdrawn"  # the absence mark was corrected before anyone followed up


class DeliveryState(str, Enum):
    pending = "pending"
    claimed = "claimed"
    sent = "sent"
    failed = "failed"
    withdrawn = "withdrawn"


# --- council structure ---------------------------------------------------------


class Area(Table):
    """圏域: the part of a council's territory one staff member looks after."""

    id = UUID(primary_key=True)
    name = Varchar(length=100, unique=True)
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Group(Table, tablename="ibasho_group"):
    """団体: a registered volunteer group running one or more ibasho."""

    id = UUID(primary_key=True)
    area = ForeignKey(references=Area, on_delete=OnDelete.restrict, null=False)
    name = Varchar(length=200)
    name_kana = Varchar(length=200, default="")
    representative = Varchar(length=100, default="")
    contact = Text(default="")  # personal data: organisers and area staff only
    timezone = Varchar(length=64, default="Asia/Tokyo")
    active = Boolean(default=True)
    registered_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Ibasho(Table):
    """A programme a group runs: a named gathering with a venue and a schedule."""

    id = UUID(primary_key=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False)
    name = Varchar(length=200)
    venue = Varchar(length=300, default="")
    kind = Varchar(length=32, choices=IbashoKind, default=IbashoKind.other.value)
    audience = Varchar(length=32, choices=Audience, default=Audience.anyone.value)
    registration_required = Boolean(default=False)  # 登録制
    listed = Boolean(default=False)  # in the public directory (登録団体一覧), as the group chose
    status = Varchar(length=32, choices=IbashoStatus, default=IbashoStatus.active.value)
    rrule = Text(default="")  # RFC 5545 recurrence, e.g. FREQ=MONTHLY;BYDAY=1SU
    start_time = Time(null=True, default=None)
    end_time = Time(null=True, default=None)
    timezone = Varchar(length=64, default="Asia/Tokyo")
    active_from = Date(null=True, default=None)  # 活動期間
    active_until = Date(null=True, default=None)
    description = Text(default="")
    # When its sessions' reminders go out (server/reminders/rules.py); null: the built-in rule
    reminder_rule = JSON(null=True, default=None)
    # A registered participant absent this many sessions in a row is on the staff's follow-up list
    absence_follow_up = Integer(default=3)
    created_at = Timestamptz(default=TimestamptzNow())


# --- people and access -----------------------------------------------------------


class Account(Table):
    """A person who logs in: council admin, area staff or group organiser."""

    id = UUID(primary_key=True)
    login = Varchar(length=100, unique=True)
    # The name in the one form logins are looked up and throttled by (auth/passwords.py
    # login_key): unique through an index of its own (migrations, "login key unique"), so
    # "Tanaka" and "tanaka" can never be two accounts. Null only for rows made before it.
    login_key = Varchar(length=100, null=True, default=None)
    display_name = Varchar(length=100)
    password_hash = Varchar(length=255)
    role = Varchar(length=16, choices=Role)
    active = Boolean(default=True)
    language = Varchar(length=8, default="ja")
    created_at = Timestamptz(default=TimestamptzNow())


class StaffArea(Table):
    """Staff ↔ area: the areas a staff member may see."""

    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False)
    area = ForeignKey(references=Area, on_delete=OnDelete.cascade, null=False)


class RegistrationState(str, Enum):
    submitted = "submitted"  # waiting for the area's staff
    asked = "asked"  # staff asked a question: waiting for the applicant
    approved = "approved"  # the group and its ibasho exist; the representative is invited
    declined = "declined"


class Registration(Table):
    """A new 居場所's application to be registered (登録申請), made on the public form by
    someone without an account. Its contact data is for the area's staff only."""

    id = UUID(primary_key=True)
    area = ForeignKey(references=Area, on_delete=OnDelete.restrict, null=False)
    group_name = Varchar(length=200)
    group_kana = Varchar(length=200, default="")
    ibasho_name = Varchar(length=200)
    kind = Varchar(length=32, choices=IbashoKind, default=IbashoKind.other.value)
    audience = Varchar(length=32, choices=Audience, default=Audience.anyone.value)
    registration_required = Boolean(default=False)
    rrule = Text(default="")
    start_time = Time(null=True, default=None)
    end_time = Time(null=True, default=None)
    venue = Varchar(length=300, default="")
    description = Text(default="")
    representative = Varchar(length=100)
    email = Varchar(length=254)
    phone = Varchar(length=40, default="")
    listed = Boolean(default=False)  # agreed to be in the public directory
    state = Varchar(length=16, choices=RegistrationState, default=RegistrationState.submitted.value)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.set_null, null=True)  # made on approval


class RegistrationMessage(Table):
    """A question from staff or an answer from the applicant, on one application."""

    id = UUID(primary_key=True)
    registration = ForeignKey(references=Registration, on_delete=OnDelete.cascade, null=False)
    author = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)  # null: the applicant
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class GroupMembership(Table):
    """Organiser ↔ group: the groups an organiser records for."""

    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False)
    joined_at = Timestamptz(default=TimestamptzNow())


class LoginSession(Table):
    """A server-side login. The cookie carries a random token; only its hash is stored."""

    id = Varchar(length=64, primary_key=True)  # sha256 hex of the cookie token
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Varchar(length=300, default="")


class RateCounter(Table):
    """Events counted per key in fixed time windows (login attempts per name and per
    address, anonymous sign-ups per address): see server/core/ratelimit.py."""

    key = Varchar(length=200, primary_key=True)
    period = BigInt()  # which window: seconds since the epoch // window length
    count = Integer(default=0)
    expires = BigInt(index=True)  # end of the window, seconds since the epoch: older rows are swept


class Invitation(Table):
    """A single-use, expiring link that lets a new organiser join a group."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False)
    created_by = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    note = Varchar(length=200, default="")  # who it is meant for
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    used_by = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)


class PasswordReset(Table):
    """A single-use, expiring link to set a new password (server/auth/credentials.py): staff
    give it to a volunteer whose phone was lost, or whose account they reactivate."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False)
    created_by = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class MailState(str, Enum):
    pending = "pending"
    sending = "sending"  # claimed by a process; next_attempt_at is then the lease's end
    sent = "sent"
    failed = "failed"


class OutboundMail(Table):
    """The outbox (server/core/mail.py): written with the change a message tells of, sent by
    the mail worker, kept for the admins' view of what went out and what failed."""

    id = UUID(primary_key=True)
    to_address = Varchar(length=254)
    subject = Varchar(length=300)
    body = Text()
    purpose = Varchar(length=40)  # why: "registration", …
    # A message that must go once (a reminder): a second queue_mail with the key is a no-op;
    # unique through an index of its own (migrations, "mail sent once": SQLite adds no UNIQUE column)
    once_key = Varchar(length=200, null=True, default=None)
    state = Varchar(length=16, choices=MailState, default=MailState.pending.value, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class AuditLog(Table):
    """Who looked at or changed what: every staff action that changes data or shows personal data."""

    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    action = Varchar(length=64)
    target = Varchar(length=200, default="")
    detail = Text(default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.set_null, null=True, index=True)  # to filter by


# --- what happens at an ibasho ---------------------------------------------------


class Session(Table, tablename="gathering"):
    """One occurrence (開催回), meeting (会議) or event (講座…) of a group."""

    id = UUID(primary_key=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False)
    ibasho = ForeignKey(references=Ibasho, on_delete=OnDelete.set_null, null=True)
    kind = Varchar(length=16, choices=SessionKind, default=SessionKind.session.value)
    title = Varchar(length=limits.TITLE, default="")
    date = Date()
    start_time = Time(null=True, default=None)
    end_time = Time(null=True, default=None)
    venue = Varchar(length=limits.VENUE, default="")
    status = Varchar(length=16, choices=SessionStatus, default=SessionStatus.scheduled.value)
    agenda = Text(default="")  # 会議内容
    online_url = Varchar(length=limits.URL, default="")  # オンライン併催
    application_deadline = Date(null=True, default=None)  # 申込締切
    venue_cost = Integer(null=True, default=None)  # yen, actual cost, for grants
    review_state = Varchar(length=16, choices=ReviewState, default=ReviewState.unreviewed.value)
    review_comment = Text(default="")
    from_schedule = Boolean(default=False)  # made ahead of time from the ibasho's rrule
    # This one session's reminder rule, laid over its ibasho's (or, with no ibasho, the built-in one); null: none
    reminder_rule = JSON(null=True, default=None)
    deleted = Boolean(default=False)
    hlcs = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # Kept by database triggers on attendance and tally (migrations/ibasho_2026_12_02t01_17_35_000000.py),
    # so the review pages of hundreds of groups read one row per session instead of counting
    # every mark: registered people present, and the head counts of everyone but the
    # volunteers (each category's sum counted only when above zero).
    present_count = Integer(default=0)
    walk_in_count = Integer(default=0)


class PersonKind(str, Enum):
    participant = "participant"  # 参加者: on the attendance roster
    volunteer = "volunteer"  # ボランティア without an account: takes roles, attends meetings


class Person(Table):
    """Someone a group keeps on a roster without an account: a participant (registered
    for a 登録制 ibasho, or a guest) or a volunteer. Personal data."""

    id = UUID(primary_key=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False)
    display_name = Varchar(length=limits.PERSON_NAME)
    kana = Varchar(length=limits.PERSON_NAME, default="")
    category = Varchar(length=limits.CATEGORY, default="adult")
    kind = Varchar(length=16, choices=PersonKind, default=PersonKind.participant.value)
    registered = Boolean(default=True)
    contact = Text(default="")
    deleted = Boolean(default=False)
    hlcs = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())
    # When the row was made (a database trigger fills it, as phones' pushes insert raw rows):
    # rosters are counted on a day for grants. Null for people recorded before it was kept.
    created_at = Timestamptz(null=True, default=None)


class Attendance(Table):
    """Named attendance of a registered person at a session; id = "{session}:{person}"."""

    id = Varchar(length=80, primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False)
    person = ForeignKey(references=Person, on_delete=OnDelete.cascade, null=False)
    status = Varchar(length=32, choices=AttendanceStatus)
    hlcs = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class Tally(Table):
    """Head count per category; ``delta_sum`` is the sum of every applied delta."""

    id = Varchar(length=120, primary_key=True)  # "{session}:{category}"
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False)
    category = Varchar(length=limits.CATEGORY)
    delta_sum = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class RoleAssignment(Table):
    """役割分担: who does which job at a session; id = "{session}:{role}:{member or person}".
    The one who does it is an organiser (``member``, an account) or a volunteer on the
    group's roster (``person``): exactly one of the two is set."""

    id = Varchar(length=160, primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False)
    role = Varchar(length=limits.ROLE)
    member = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=True)
    person = ForeignKey(references=Person, on_delete=OnDelete.cascade, null=True)
    assigned = Boolean(default=True)
    hlcs = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class Note(Table):
    """反省会 notes of a session; the id is the session's id."""

    id = UUID(primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False, unique=True)
    went_well = Text(default="")
    to_improve = Text(default="")
    handover = Text(default="")  # 申し送り
    concerns = Text(default="")  # 気になる参加者: sensitive
    decisions = Text(default="")  # a meeting's 議事録: what was decided
    conflicts = JSON(default=[])  # [{field, text, hlc, by}] losing texts, so no words vanish
    authors = JSON(default={})  # {field: account id} of who wrote each field's current text
    hlcs = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class SafetyCheck(Table):
    """安否確認: follow-up of a registered participant absent without notice."""

    id = UUID(primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False)
    person = ForeignKey(references=Person, on_delete=OnDelete.cascade, null=False)
    outcome = Varchar(length=32, choices=SafetyCheckOutcome, default=SafetyCheckOutcome.open.value)
    contacted_by = Varchar(length=limits.CONTACTED_BY, default="")
    contacted_at = Timestamptz(null=True, default=None)
    method = Varchar(length=limits.METHOD, default="")  # phone, visit, message…
    notes = Text(default="")
    hlcs = JSON(default={})
    opened_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class MeetingAttendance(Table):
    """Who of the members came to a meeting (会議): an organiser (``member``) or a
    volunteer (``person``); id = "{session}:{member or person}"."""

    id = Varchar(length=80, primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False)
    member = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=True)
    person = ForeignKey(references=Person, on_delete=OnDelete.cascade, null=True)
    present = Boolean(default=False)
    hlcs = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class CallMark(Table):
    """A call of the session's 電話連絡網 to a participant who chose the phone:
    told (伝えた), no answer (不在) or absent (欠席の連絡); id = "{session}:{person}"."""

    id = Varchar(length=80, primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False)
    person = ForeignKey(references=Person, on_delete=OnDelete.cascade, null=False)
    outcome = Varchar(length=16, null=True, default=None)
    hlcs = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class ActionItem(Table):
    """A meeting's action item (議事録): what is to be done, by whom, by when."""

    id = UUID(primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False)
    text = Text(default="")
    owner = Varchar(length=limits.PERSON_NAME, default="")  # whom: a name, as people from other bodies may take one
    due = Date(null=True, default=None)
    done = Boolean(default=False)
    deleted = Boolean(default=False)
    hlcs = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class FollowUp(Table):
    """What staff did about one item of the follow-up list (server/review/followups.py): the
    items are derived from the data; only who took one on and whether it is closed are kept,
    under the item's stable key. ``area`` and ``title`` keep it in scope and readable after
    the data it came from has changed."""

    key = Varchar(length=200, primary_key=True)
    kind = Varchar(length=32)
    area = ForeignKey(references=Area, on_delete=OnDelete.cascade, null=False)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=True)
    title = Varchar(length=300, default="")
    assignee = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class FollowUpComment(Table):
    """A staff member's comment on a follow-up item."""

    id = UUID(primary_key=True)
    follow_up = ForeignKey(references=FollowUp, on_delete=OnDelete.cascade, null=False, index=True)
    author = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())


# --- the council's own events (講座, 交流会, フォーラム) ---------------------------------


class EventKind(str, Enum):
    course = "course"  # 講座: a certificate (修了証) to those who attend every part
    network = "network"  # 交流会・ネットワーク会議
    forum = "forum"  # フォーラム


class CouncilEvent(Table):
    """An event the council runs for an area's 居場所 and the public (server/events/)."""

    id = UUID(primary_key=True)
    area = ForeignKey(references=Area, on_delete=OnDelete.restrict, null=False)
    kind = Varchar(length=16, choices=EventKind, default=EventKind.course.value)
    title = Varchar(length=200)
    description = Text(default="")
    capacity = Integer()  # 定員: beyond it, applicants wait (キャンセル待ち)
    application_deadline = Date()  # 申込締切: the last day one may apply
    online_url = Varchar(length=limits.URL, default="")  # shown only to those registered
    created_by = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class EventPart(Table):
    """One part (第1回, 第2回…) of an event: a day, its times and where it is held."""

    id = UUID(primary_key=True)
    event = ForeignKey(references=CouncilEvent, on_delete=OnDelete.cascade, null=False, index=True)
    number = Integer()  # 1, 2, … in date order
    date = Date()
    start_time = Time()
    end_time = Time(null=True, default=None)
    venue = Varchar(length=limits.VENUE, default="")  # empty: online only
    online = Boolean(default=False)  # also (or only) online


class ApplicationState(str, Enum):
    registered = "registered"  # 申込済み: has a seat
    waiting = "waiting"  # キャンセル待ち: gets the next seat that frees
    cancelled = "cancelled"


class EventApplication(Table):
    """Someone's application to an event, made without an account. Personal data: the
    applicant and the event's area staff only."""

    id = UUID(primary_key=True)
    event = ForeignKey(references=CouncilEvent, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=limits.PERSON_NAME)
    organisation = Varchar(length=200, default="")  # 所属 (a 居場所, a group), as they write it
    email = Varchar(length=254)
    phone = Varchar(length=40, default="")
    state = Varchar(length=16, choices=ApplicationState, default=ApplicationState.registered.value)
    applied_at = Timestamptz()  # the waiting list's order
    cancelled_at = Timestamptz(null=True, default=None)


class EventAttendance(Table):
    """Who came to which part, marked at the door; id = "{part}:{application}"."""

    id = Varchar(length=80, primary_key=True)
    part = ForeignKey(references=EventPart, on_delete=OnDelete.cascade, null=False, index=True)
    application = ForeignKey(references=EventApplication, on_delete=OnDelete.cascade, null=False)
    present = Boolean(default=True)
    marked_by = ForeignKey(references=Account, on_delete=OnDelete.set_null, null=True)
    marked_at = Timestamptz()


# --- committees across organisations (推進委員会) ------------------------------------


class Committee(Table):
    """Marks a group as a committee (server/committees/): its meetings are the group's
    sessions of kind meeting, its members people (volunteers) of its roster or organisers."""

    id = UUID(primary_key=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class CommitteeOrganisation(Table):
    """A member organisation of a committee (a 社協, a 市役所 department, a group…)."""

    id = UUID(primary_key=True)
    committee = ForeignKey(references=Committee, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)


class CommitteeSeat(Table):
    """A committee member: a person of the committee group's roster, for an organisation.
    The email is where reminders and the minutes' link go (personal data: the area's staff)."""

    id = UUID(primary_key=True)
    committee = ForeignKey(references=Committee, on_delete=OnDelete.cascade, null=False, index=True)
    person = ForeignKey(references=Person, on_delete=OnDelete.cascade, null=False, unique=True)
    organisation = ForeignKey(references=CommitteeOrganisation, on_delete=OnDelete.set_null, null=True)
    email = Varchar(length=254, default="")


class CommitteeMeetingKind(str, Enum):
    full = "full"  # 全体会議
    working = "working"  # 実務者会議


class CommitteeMeeting(Table):
    """Which of the two kinds a committee's meeting (a session of kind meeting) is."""

    id = UUID(primary_key=True)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=False, unique=True)
    kind = Varchar(length=16, choices=CommitteeMeetingKind)


# --- grants ----------------------------------------------------------------------


class GrantProgramme(Table):
    """A council's grant programme (助成制度). Its rules are versions by fiscal year
    (``GrantRuleVersion``): a year is always computed with the rules in force that year."""

    id = UUID(primary_key=True)
    name = Varchar(length=200, unique=True)
    council = Varchar(length=200, default="")
    source = Text(default="")  # where the 要綱 is published (a URL, a document's title)
    retired_after = Integer(null=True, default=None)  # the last fiscal year it pays; null: in force
    notes = Text(default="")


class GrantRuleVersion(Table):
    """A programme's rules from fiscal year ``from_year`` until the next version's year, as
    the JSON of server/grants/model.py (``Rules.to_json``); one per programme and year."""

    id = UUID(primary_key=True)
    programme = ForeignKey(references=GrantProgramme, on_delete=OnDelete.cascade, null=False, index=True)
    from_year = Integer()
    rules = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class GroupGrant(Table):
    """A group's enrolment in a grant programme from a fiscal year on."""

    id = UUID(primary_key=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False)
    programme = ForeignKey(references=GrantProgramme, on_delete=OnDelete.cascade, null=False)
    first_fiscal_year = Integer()  # e.g. 2025 for 令和7年度


# --- reminders -------------------------------------------------------------------


class SubscriptionChannel(str, Enum):
    webpush = "webpush"
    email = "email"
    line = "line"
    phone = "phone"  # nothing is sent: the person is on the session's call list (電話連絡網)


class PushSubscription(Table):
    """How a participant (tied to an ibasho) or an account is reminded: a browser's Web
    Push subscription, an email address, or a phone number a volunteer calls."""

    id = UUID(primary_key=True)
    # Web Push: the push service URL. Other channels: "<channel>:<ibasho or account>:<address>",
    # so one address subscribes once per ibasho.
    endpoint = Text(unique=True)
    p256dh = Varchar(length=200)
    auth = Varchar(length=64)
    ibasho = ForeignKey(references=Ibasho, on_delete=OnDelete.cascade, null=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=True)
    person = ForeignKey(references=Person, on_delete=OnDelete.set_null, null=True)
    manage_token_hash = Varchar(length=64, default="")
    offsets = JSON(default=[])  # the reminder kinds chosen ("day_before", "2h"); empty: every kind the rule sends
    consecutive_failures = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    channel = Varchar(length=16, choices=SubscriptionChannel, default=SubscriptionChannel.webpush.value)
    address = Text(default="")  # the email address or phone number (personal data)
    # email: when the confirmation link was followed; nothing is sent before (Web Push needs none)
    confirmed_at = Timestamptz(null=True, default=None)


class LineChannel(Table):
    """A LINE公式アカウント's Messaging API channel, set up by staff: the council's (no
    group) or one group's. Its secrets sign and authorise; never shown again once saved."""

    id = UUID(primary_key=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=True, unique=True)
    name = Varchar(length=100)
    access_token = Text(secret=True)
    channel_secret = Varchar(length=64, secret=True)
    friend_url = Text(default="")  # the account's 友だち追加 link (https://lin.ee/…), shown on public pages
    # staff may stop a channel (and start it again): nothing is sent through it, no code is given
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ReminderDelivery(Table):
    """One reminder occurrence for one subscription; unique per that pair."""

    id = UUID(primary_key=True)
    occurrence = Varchar(length=200)  # e.g. "{session_id}:day_before"
    subscription = ForeignKey(references=PushSubscription, on_delete=OnDelete.cascade, null=False)
    session = ForeignKey(references=Session, on_delete=OnDelete.cascade, null=True)
    due_at = Timestamptz(index=True)
    expires_at = Timestamptz()
    state = Varchar(length=16, choices=DeliveryState, default=DeliveryState.pending.value)
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    sent_at = Timestamptz(null=True, default=None)


# --- sync bookkeeping ------------------------------------------------------------


class SyncClient(Table):
    """A device: the last mutation ``seq`` the server processed for it."""

    id = UUID(primary_key=True)  # the client's client_id
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False)
    last_seq = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())  # its last push
    last_pull_at = Timestamptz(null=True, default=None)  # its last pull (staff see when a phone last synced)


class ChangeLog(Table):
    """The latest change number of every synced entity; pull reads ``change_no > cursor``.

    One row per entity (its key is "{entity}:{id}"): a later change moves the entity to
    a new, higher number, so a page never holds an entity twice. Numbers are handed out
    at the very end of a push transaction under a lock held until commit, so they
    become visible in increasing order (see docs/sync.md).
    """

    key = Varchar(length=200, primary_key=True)
    entity = Varchar(length=32)
    entity_id = Varchar(length=160)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False, index=True)
    change_no = BigInt(unique=True, index=True)
    at = Timestamptz(default=TimestamptzNow())


class MutationLog(Table):
    """The outcome of each processed mutation, for audit and for showing rejections."""

    id = UUID(primary_key=True)
    mutation_id = Varchar(length=64)  # the client's own id for it (a UUIDv7)
    client = ForeignKey(references=SyncClient, on_delete=OnDelete.cascade, null=False)
    seq = Integer()
    name = Varchar(length=64)
    status = Varchar(length=16)
    error = Text(default="")
    at = Timestamptz(default=TimestamptzNow())
