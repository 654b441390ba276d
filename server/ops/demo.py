"""The demo council: 武蔵野市民社会福祉協議会, its three areas (圏域) and twelve groups.

Drawn from the council's own booklet 「居場所のチカラ」 (see docs/domain.md): きらくら meets on
the first Sunday, 10:00–13:00, at the 西部コミュニティセンター; すみれの家 on the third
Friday, 11:00–14:00, in an empty house in 境南町. Where the booklet gives only a name and
a district, the venue and rhythm are invented but plausible.

``load_demo`` makes a year of history up to today (sessions held or cancelled, named
attendance, head counts, roles, 反省会 notes, safety checks), the next three months of
scheduled sessions, a few meetings, the grant programmes and the accounts, then prints
the logins. Content comes from a fixed ``random.Random(SEED)``; dates are relative to
today in Japan. Everything is inserted in bulk inside one transaction.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

from dateutil.relativedelta import relativedelta
from piccolo.table import Table

from server.auth.accounts import create_user
from server.auth.passwords import login_key
from server.core.clock import now
from server.core.dates import fiscal_year
from server.core.schedule import occurrences, session_times, zone
from server.db import write_transaction
from server.sync.store import backfill_change_log
from server.tables import (
    Account,
    Area,
    Attendance,
    AttendanceStatus,
    Audience,
    GrantProgramme,
    Group,
    GroupGrant,
    GroupMembership,
    Ibasho,
    IbashoKind,
    IbashoStatus,
    Note,
    Person,
    ReviewState,
    RoleAssignment,
    SafetyCheck,
    SafetyCheckOutcome,
    Session,
    SessionKind,
    SessionStatus,
    StaffArea,
    Tally,
)

SEED = 20170507  # きらくら's first day
TZ = "Asia/Tokyo"
COUNCIL = "武蔵野市民社会福祉協議会"
CHUNK = 500

ADMIN_PASSWORD = "ibasho-admin"
STAFF_PASSWORD = "ibasho-staff"
ORGANISER_PASSWORD = "ibasho-demo"

TALLY_CATEGORIES = ("child", "adult", "senior", "parent_child", "first_time", "volunteer")

K, A = IbashoKind, Audience


# --- the council, as data -------------------------------------------------------------


@dataclass(frozen=True)
class AreaSpec:
    key: str
    name: str
    description: str
    staff_name: str

    @property
    def staff_login(self) -> str:
        return f"staff-{self.key}"


AREAS = (
    AreaSpec("east", "東部圏域", "吉祥寺地域（吉祥寺本町・吉祥寺東町・吉祥寺南町・吉祥寺北町）", "佐々木 真理"),
    AreaSpec("central", "中央圏域", "中央地域（中町・西久保・緑町・八幡町）", "中村 健太"),
    AreaSpec("west", "西部圏域", "武蔵境地域（境・境南町・桜堤・関前）", "小川 由紀"),
)


@dataclass(frozen=True)
class GroupSpec:
    key: str  # organiser logins are key1, key2
    area: str
    group: str
    kana: str
    ibasho: str
    venue: str
    kind: IbashoKind
    audience: Audience
    rrule: str
    start: time
    end: time
    active_from: date
    description: str
    people: int
    venue_cost: int = 0
    registration_required: bool = False
    status: IbashoStatus = IbashoStatus.active
    grant: str | None = "musashino"


GROUPS = (
    GroupSpec(
        "kirakura",
        "west",
        "きらくらの会",
        "きらくらのかい",
        "きらくら",
        "西部コミュニティセンター（桜堤）",
        K.kodomo_shokudo,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=1SU",
        time(10),
        time(13),
        date(2017, 5, 7),
        "休日の昼間に、世代にかかわらず参加できるくつろぎと食事の場。",
        26,
        venue_cost=1200,
    ),
    GroupSpec(
        "sumire",
        "west",
        "すみれの会",
        "すみれのかい",
        "すみれの家",
        "空家（境南町５丁目）",
        K.chanoma,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=3FR",
        time(11),
        time(14),
        date(2016, 10, 21),
        "住宅開放型ならではのゆったりとした空間演出と居心地の良さ。手作りおかずの差し入れが自慢。",
        22,
        venue_cost=3000,
    ),
    GroupSpec(
        "nadeshiko",
        "west",
        "境南なでしこ会",
        "きょうなんなでしこかい",
        "境南なでしこサロン",
        "境南コミュニティセンター 和室",
        K.salon,
        A.seniors,
        "FREQ=WEEKLY;BYDAY=TU",
        time(10),
        time(12),
        date(2018, 4, 3),
        "65歳以上の登録制いきいきサロン。体操・脳トレ・茶話会。無断欠席の方には当日中に安否確認の電話。",
        28,
        registration_required=True,
        grant="ikiiki",
    ),
    GroupSpec(
        "matsunoya",
        "west",
        "松の家の会",
        "まつのいえのかい",
        "松の家",
        "個人宅（桜堤２丁目）",
        K.cafe,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=4SA",
        time(13),
        time(16),
        date(2018, 6, 23),
        "家主さんの自宅を開放したコミュニティカフェ。庭の松を眺めながらお茶とおしゃべり。",
        18,
    ),
    GroupSpec(
        "viola",
        "west",
        "Viola",
        "ゔぃおら",
        "Viola",
        "関前コミュニティセンター",
        K.cafe,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=2WE",
        time(13, 30),
        time(15, 30),
        date(2017, 10, 11),
        "音楽好きが集まるカフェ。ミニコンサートと歌声の時間あり。",
        20,
        venue_cost=500,
    ),
    GroupSpec(
        "nishikubo",
        "central",
        "西久保三丁目サロンの会",
        "にしくぼさんちょうめさろんのかい",
        "西久保三丁目サロン",
        "西久保三丁目マンション集会室",
        K.salon,
        A.seniors,
        "FREQ=MONTHLY;BYDAY=1WE,3WE",
        time(13, 30),
        time(15, 30),
        date(2017, 11, 1),
        "マンションの集会室で月２回。登録制で、顔なじみ同士の見守りも兼ねている。",
        24,
        venue_cost=1000,
        registration_required=True,
    ),
    GroupSpec(
        "yamabuki",
        "central",
        "やまぶきの会",
        "やまぶきのかい",
        "やまぶき茶屋",
        "中町集会所",
        K.chanoma,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=2TH",
        time(10),
        time(12),
        date(2018, 9, 13),
        "地域の茶の間。会場の集会所の建て替え工事のため、現在休止中（再開時期は未定）。",
        16,
        venue_cost=800,
        status=IbashoStatus.paused,
    ),
    GroupSpec(
        "hidamari",
        "central",
        "西久保ひだまりの会",
        "にしくぼひだまりのかい",
        "西久保ひだまり",
        "西久保コミュニティセンター 和室",
        K.parenting,
        A.parents,
        "FREQ=MONTHLY;BYDAY=2MO,4MO",
        time(10),
        time(12),
        date(2019, 4, 8),
        "乳幼児親子とシニアが一緒に過ごす子育てサロン。先輩ママ・シニアボランティアが見守り。",
        22,
    ),
    GroupSpec(
        "sun",
        "central",
        "sun",
        "さん",
        "sun",
        "緑町パークタウン集会所",
        K.kodomo_shokudo,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=3SA",
        time(11),
        time(14),
        date(2020, 1, 18),
        "みんなの食堂。子どもは無料、大人300円。団地の多世代が顔を合わせる場。",
        24,
        venue_cost=1500,
    ),
    GroupSpec(
        "yorisoi",
        "east",
        "よりそいの会",
        "よりそいのかい",
        "よりそいカフェ",
        "吉祥寺北コミュニティセンター",
        K.cafe,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=4TH",
        time(13, 30),
        time(15, 30),
        date(2017, 6, 22),
        "認知症の方と家族、地域の誰もが気軽に立ち寄れるカフェ。助成事業は卒業し自主運営。",
        20,
        status=IbashoStatus.graduated,
        grant=None,
    ),
    GroupSpec(
        "kirin",
        "east",
        "きりん塾",
        "きりんじゅく",
        "きりん塾",
        "本町コミュニティセンター 学習室",
        K.study,
        A.children,
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA",
        time(14),
        time(16),
        date(2019, 4, 6),
        "小中学生の学習支援。退職教員と大学生ボランティアが宿題をみる。終わったらおやつ。",
        20,
    ),
    GroupSpec(
        "kt",
        "east",
        "KT吉祥寺サードプレイス",
        "けーてぃーきちじょうじさーどぷれいす",
        "KT 吉祥寺サードプレイス",
        "喫茶店の貸切スペース（吉祥寺本町）",
        K.cafe,
        A.anyone,
        "FREQ=MONTHLY;BYDAY=2SU",
        time(14),
        time(16),
        date(2024, 5, 12),
        "家でも職場でもない「第三の場所」。子育て世代とシニアの交流カフェ。",
        17,
        venue_cost=2000,
        grant="startup",
    ),
)


@dataclass(frozen=True)
class GrantSpec:
    key: str
    values: dict


GRANTS = (
    GrantSpec(
        "musashino",
        {
            "name": "身近な地域の居場所づくり助成",
            "council": COUNCIL,
            "min_sessions_every_months": 2,
            "min_session_minutes": 120,
            "activity_amount_per_session": 2500,
            "venue_cap_per_session": 2500,
            "yearly_cap": 100000,
            "notes": "開催場所が武蔵野市内、近隣住民が対象で地域に開かれた活動。"
            "２か月に１回以上、１回あたり概ね２時間以上。"
            "助成額＝活動費（１回2,500円）＋会場費（実費、１回2,500円まで）、年10万円まで。",
        },
    ),
    GrantSpec(
        "startup",
        {
            "name": "「みんなの居場所」スタートアップ事業",
            "council": "青森県社会福祉協議会",
            "fixed_yearly_amount": 50000,
            "eligible_years": 3,
            "notes": "居場所づくりを始める個人・団体に、３年間まで毎年度５万円。（ルールの違いを示すデモ用の登録）",
        },
    ),
    GrantSpec(
        "ikiiki",
        {
            "name": "いきいきサロン",
            "council": COUNCIL,
            "min_session_minutes": 120,
            "activity_amount_per_session": 4000,
            "yearly_cap": 200000,
            "requires_registration": True,
            "min_age": 65,
            "notes": "週１回以上、１回２時間以上、65歳以上の登録制サロン。上限20万円（１回あたりの額はデモ用の仮定）。",
        },
    ),
)


# --- names ------------------------------------------------------------------------------


def _names(text: str) -> tuple[tuple[str, str], ...]:
    """Names written as ``漢字:かな`` pairs separated by spaces."""
    return tuple((kanji, kana) for kanji, kana in (word.split(":") for word in text.split()))


SURNAMES = _names("""
    佐藤:さとう 鈴木:すずき 高橋:たかはし 田中:たなか 伊藤:いとう 渡辺:わたなべ 山本:やまもと 中村:なかむら
    小林:こばやし 加藤:かとう 吉田:よしだ 山田:やまだ 山口:やまぐち 松本:まつもと 井上:いのうえ 木村:きむら
    林:はやし 清水:しみず 山崎:やまざき 森:もり 池田:いけだ 橋本:はしもと 阿部:あべ 石川:いしかわ
    前田:まえだ 藤田:ふじた 岡田:おかだ 後藤:ごとう 長谷川:はせがわ 村上:むらかみ 近藤:こんどう 石井:いしい
    坂本:さかもと 遠藤:えんどう 青木:あおき 藤井:ふじい 西村:にしむら 福田:ふくだ 太田:おおた 三浦:みうら
    岡本:おかもと 松田:まつだ 中川:なかがわ 原:はら 竹内:たけうち
""")
SENIOR_NAMES = _names("""
    和子:かずこ 幸子:さちこ 節子:せつこ 弘子:ひろこ 洋子:ようこ 京子:きょうこ 美智子:みちこ 久美子:くみこ
    信子:のぶこ 照子:てるこ 登美子:とみこ 千代子:ちよこ 清:きよし 茂:しげる 勝:まさる 博:ひろし 實:みのる
    正夫:まさお 昭:あきら 武:たけし 進:すすむ 和夫:かずお 静江:しずえ トシ子:としこ
""")
ADULT_NAMES = _names("""
    美穂:みほ 智子:ともこ 直美:なおみ 由美:ゆみ 恵:めぐみ 裕子:ゆうこ 真由美:まゆみ 健一:けんいち
    大輔:だいすけ 誠:まこと 拓也:たくや 亮:りょう 美咲:みさき 彩:あや 聡:さとし 浩二:こうじ 麻衣:まい
    和也:かずや 恵美子:えみこ 陽子:ようこ
""")
CHILD_NAMES = _names("""
    陽翔:はると 蓮:れん 湊:みなと 悠真:ゆうま 蒼:あおい 陽菜:ひな 結衣:ゆい 凛:りん 芽依:めい 葵:あおい
    結翔:ゆいと 紬:つむぎ 大和:やまと 咲良:さくら 颯太:そうた 心春:こはる
""")

# Who registers with each kind of ibasho: category weights.
PEOPLE_MIX = {
    K.kodomo_shokudo: {"child": 4, "parent_child": 3, "adult": 1, "senior": 2},
    K.chanoma: {"senior": 6, "adult": 2, "parent_child": 1, "child": 1},
    K.cafe: {"senior": 5, "adult": 3, "parent_child": 1, "child": 1},
    K.salon: {"senior": 1},
    K.parenting: {"parent_child": 8, "senior": 1, "adult": 1},
    K.study: {"child": 9, "parent_child": 1},
}
# Head counts of everyone else: (low, high) per tally category.
WALK_INS = {
    K.kodomo_shokudo: {
        "child": (3, 8),
        "adult": (1, 4),
        "senior": (2, 5),
        "parent_child": (1, 4),
        "first_time": (1, 4),
        "volunteer": (3, 6),
    },
    K.chanoma: {
        "child": (0, 2),
        "adult": (2, 6),
        "senior": (4, 10),
        "parent_child": (0, 2),
        "first_time": (0, 3),
        "volunteer": (3, 5),
    },
    K.cafe: {
        "child": (0, 2),
        "adult": (3, 7),
        "senior": (4, 9),
        "parent_child": (0, 2),
        "first_time": (1, 4),
        "volunteer": (3, 5),
    },
    K.salon: {
        "child": (0, 0),
        "adult": (0, 1),
        "senior": (0, 3),
        "parent_child": (0, 0),
        "first_time": (0, 2),
        "volunteer": (2, 4),
    },
    K.parenting: {
        "child": (0, 2),
        "adult": (0, 2),
        "senior": (1, 3),
        "parent_child": (5, 10),
        "first_time": (1, 3),
        "volunteer": (2, 4),
    },
    K.study: {
        "child": (6, 12),
        "adult": (0, 1),
        "senior": (0, 1),
        "parent_child": (0, 1),
        "first_time": (0, 2),
        "volunteer": (3, 6),
    },
}
ROLES = {
    K.kodomo_shokudo: ("調理", "買い出し", "受付", "配膳", "片付け", "見守り"),
    K.chanoma: ("調理", "受付", "片付け", "見守り"),
    K.cafe: ("受付", "配膳", "片付け"),
    K.salon: ("受付", "見守り", "片付け"),
    K.parenting: ("受付", "見守り", "片付け"),
    K.study: ("受付", "見守り"),
}

# --- 反省会 notes ---------------------------------------------------------------------

SEASON = {
    1: "お正月あそび",
    2: "節分の豆まき",
    3: "ひなまつり",
    4: "お花見",
    5: "柏餅づくり",
    6: "梅ジュースづくり",
    7: "七夕飾り",
    8: "夏休みの工作",
    9: "敬老のお祝い",
    10: "ハロウィン",
    11: "焼き芋",
    12: "クリスマス会",
}
MENUS = (
    "カレーライス",
    "豚汁とおにぎり",
    "肉じゃが",
    "ちらし寿司",
    "手作りハンバーグ",
    "親子丼",
    "焼きそば",
    "鮭の炊き込みご飯",
    "ミートソーススパゲッティ",
    "筑前煮と五目ご飯",
    "具だくさんのけんちん汁",
)
WENT_WELL = (
    "初参加の方が{first_time}名。常連さんが自然に声をかけてくれて、すぐに打ち解けていた。",
    "受付で名札を用意したので、名前で呼び合えて会話が弾んだ。",
    "片付けを参加者の方も手伝ってくださり、予定より早く終わった。",
    "民生委員さんが顔を出してくださり、参加者の相談にその場でのってくれた。",
    "全体で{total}名の参加。いつもの顔ぶれがそろってほっとした。",
    "時間配分がうまくいき、最後にみんなでお茶を飲む時間がとれた。",
    "{season}が好評で、子どもからお年寄りまで一緒に楽しめた。",
)
WENT_WELL_BY_KIND = {
    K.kodomo_shokudo: (
        "メニューは{menu}。おかわりする子が多く、ほぼ完食だった。",
        "配膳の動線を変えたので、行列ができなかった。",
        "親子で来たお母さん同士が連絡先を交換していた。",
    ),
    K.chanoma: (
        "縁側でのんびり過ごす方が多く、居心地の良さを感じた。",
        "差し入れの手作りおかずとデザートが並び、話がはずんだ。",
        "昔遊び（お手玉・けん玉）で子どもとお年寄りが一緒に遊べた。",
    ),
    K.cafe: (
        "ミニコンサート（ギター演奏）が好評で、アンコールまで出た。",
        "コーヒーの淹れ方を参加者の方が教えてくださった。",
        "認知症サポーター養成講座の案内に関心を持つ方が多かった。",
    ),
    K.salon: (
        "椅子体操のあとの茶話会で、昔の武蔵境の話に花が咲いた。",
        "脳トレのクイズが盛り上がった。",
        "保健師さんの血圧測定と健康相談が好評だった。",
    ),
    K.parenting: (
        "シニアの方が赤ちゃんを抱っこしてくれて、お母さんがゆっくりお茶を飲めた。",
        "身長・体重を測るコーナーが好評だった。",
        "転入したばかりのお母さんが、地域の小児科の情報を教えてもらっていた。",
    ),
    K.study: (
        "宿題を早めに終えた子が、年下の子に教えていた。",
        "漢字検定に向けて自分から勉強する子が増えてきた。",
        "大学生ボランティアとの進路の話に、中学生が真剣に聞き入っていた。",
    ),
}
TO_IMPROVE = (
    "受付が混み合ったので、次回は二人体制にする。",
    "片付けに時間がかかり、会場の退出時間ぎりぎりになった。",
    "初めての方への声かけが遅れた。入口近くに案内役を置きたい。",
    "後ろの席の方に声が届きにくかった。説明は前に集まってもらってから。",
    "駐輪場があふれ、近所の方から声があった。次回は自転車の置き場所を案内する。",
    "特になし。",
)
TO_IMPROVE_BY_KIND = {
    K.kodomo_shokudo: (
        "食材が少し余った。参加人数の見込みを見直す。",
        "アレルギー表示が分かりにくかった。メニュー表に大きく書く。",
    ),
    K.chanoma: ("座布団が足りなかった。次回は集会所から借りてくる。",),
    K.cafe: ("お湯が足りず、ポットをもう一つ用意する。",),
    K.salon: ("体操の音楽が小さくて聞こえにくいという声があった。",),
    K.parenting: ("ベビーカー置き場が狭い。入口の配置を考える。",),
    K.study: ("プリントの用意が学年によって足りなかった。",),
}
HANDOVER = (
    "次回は{next_season}。材料の買い出しは前日にお願いします。",
    "会場の鍵は{organiser}さんが返却済み。次回の予約も完了。",
    "紙コップとゴミ袋が残りわずか。次回までに補充。",
    "チラシを次回までに各自20枚ずつ配布をお願いします。",
    "会計の記録をファイルに入れました。次回、会計担当に渡します。",
    "新しいボランティアさん（大学生）が次回から参加予定。",
)
CONCERNS = {
    "senior": (
        "{name}さん、いつもより元気がなく、食欲もなかった。ご家族と連絡がとれるか確認したい。",
        "{name}さんが最近同じ話を繰り返すことが増えた。地域担当の職員に相談済み。",
        "{name}さんの足元がふらついていた。帰りは付き添ってご自宅まで送った。",
        "{name}さんから、ゴミ出しがつらくなってきたと相談があった。地域包括支援センターの連絡先を渡した。",
    ),
    "young": (
        "{name}さん、最近は夕食をひとりで食べることが多いと話していた。様子を見守りたい。",
        "{name}さんが、学校に行きづらいと小さな声で話していた。次回も声をかける。",
        "{name}さん（親子）のお母さんが疲れた様子。子育て支援の窓口を紹介した。",
    ),
}
CANCELLED = ("台風接近のため中止。", "会場の空調故障のため中止。", "インフルエンザ流行のため中止。")
SAFETY_NOTES = (
    "電話で確認。風邪気味で休んだとのこと。次回は来られそう。",
    "電話で確認。ご家族の用事で外出していた。",
    "電話がつながらず、夕方に自宅を訪問。お元気で、曜日を勘違いしていたとのこと。",
)


# --- building the rows ------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str
    role: str
    display_name: str
    where: str
    area: str | None = None  # area key (staff)
    group: str | None = None  # group key (organisers)


def demo_logins() -> list[DemoLogin]:
    """Every demo account: the admin, one staff member per area, two organisers per group."""
    rng = random.Random(SEED)
    logins = [DemoLogin("admin", ADMIN_PASSWORD, "admin", "市民社協 事務局", COUNCIL)]
    logins += [DemoLogin(a.staff_login, STAFF_PASSWORD, "staff", a.staff_name, a.name, area=a.key) for a in AREAS]
    taken: set[str] = set()
    for spec in GROUPS:
        where = spec.group if spec.group == spec.ibasho else f"{spec.group}・{spec.ibasho}"
        for number in (1, 2):
            name = _full_name(rng, SENIOR_NAMES if number == 1 else ADULT_NAMES)[0]
            while name in taken:
                name = _full_name(rng, SENIOR_NAMES if number == 1 else ADULT_NAMES)[0]
            taken.add(name)
            logins.append(
                DemoLogin(f"{spec.key}{number}", ORGANISER_PASSWORD, "organiser", name, where, group=spec.key)
            )
    return logins


def _full_name(rng: random.Random, given_names) -> tuple[str, str]:
    (surname, surname_kana), (given, given_kana) = rng.choice(SURNAMES), rng.choice(given_names)
    return f"{surname} {given}", f"{surname_kana} {given_kana}"


def _person_name(rng: random.Random, category: str) -> tuple[str, str]:
    if category == "parent_child":
        (surname, kana), (parent, parent_kana), (child, child_kana) = (
            rng.choice(SURNAMES),
            rng.choice(ADULT_NAMES),
            rng.choice(CHILD_NAMES),
        )
        return f"{surname} {parent}・{child}", f"{kana} {parent_kana}・{child_kana}"
    return _full_name(rng, {"child": CHILD_NAMES, "adult": ADULT_NAMES, "senior": SENIOR_NAMES}[category])


# Tables in the order their rows go in (foreign keys first).
INSERT_ORDER = (
    Area,
    StaffArea,
    Group,
    Ibasho,
    GroupMembership,
    GroupGrant,
    Person,
    Session,
    Attendance,
    SafetyCheck,
    Tally,
    RoleAssignment,
    Note,
)


@dataclass
class Rows:
    """Every row to insert, per table."""

    tables: dict[type[Table], list[Table]] = field(default_factory=lambda: {table: [] for table in INSERT_ORDER})

    def add(self, row: Table) -> None:
        self.tables[type(row)].append(row)

    def count(self, table: type[Table]) -> int:
        return len(self.tables.get(table, []))


@dataclass
class GroupRun:
    """What building one group's history needs to know."""

    spec: GroupSpec
    group_id: UUID
    ibasho_id: UUID
    organisers: list[tuple[UUID, str]]  # (account id, display name)
    people: list[tuple[UUID, str, str, float]] = field(default_factory=list)  # id, name, category, regularity


class DemoBuilder:
    def __init__(self, rng: random.Random, today: date, accounts: dict[str, UUID], logins: Sequence[DemoLogin]):
        self.rng = rng
        self.today = today
        self.accounts = accounts
        self.logins = logins
        self.rows = Rows()
        self.stats = {"held": 0, "cancelled": 0, "scheduled": 0, "meetings": 0}

    def build(self, programme_ids: dict[str, UUID]) -> Rows:
        area_ids = {}
        for area in AREAS:
            area_ids[area.key] = uuid4()
            self.rows.add(Area(id=area_ids[area.key], name=area.name, description=area.description, created_at=now()))
        for login in self.logins:
            if login.area:
                self.rows.add(StaffArea(id=uuid4(), account=self.accounts[login.login], area=area_ids[login.area]))
        runs = [self._group(spec, area_ids[spec.area], programme_ids) for spec in GROUPS]
        # Two one-off cancellations somewhere in the year, besides the new-year break.
        past = [(run, day) for run in runs for day in self._past_dates(run.spec)]
        cancelled = {
            (run.spec.key, day): reason
            for (run, day), reason in zip(self.rng.sample(past, 2), CANCELLED[:2], strict=True)
        }
        for run in runs:
            self._history(run, cancelled)
            self._upcoming(run)
        self._meetings(runs)
        return self.rows

    # --- structure

    def _group(self, spec: GroupSpec, area_id: UUID, programme_ids: dict[str, UUID]) -> GroupRun:
        rng = self.rng
        group_id, ibasho_id = uuid4(), uuid4()
        organisers = [
            (self.accounts[login.login], login.display_name) for login in self.logins if login.group == spec.key
        ]
        self.rows.add(
            Group(
                id=group_id,
                area=area_id,
                name=spec.group,
                name_kana=spec.kana,
                representative=organisers[0][1],
                contact=f"代表 {organisers[0][1]}　電話 0422-00-{rng.randint(1000, 9999)}",
                timezone=TZ,
                registered_on=spec.active_from - timedelta(days=rng.randint(20, 60)),
                created_at=now(),
            )
        )
        self.rows.add(
            Ibasho(
                id=ibasho_id,
                group=group_id,
                name=spec.ibasho,
                venue=spec.venue,
                kind=spec.kind.value,
                audience=spec.audience.value,
                registration_required=spec.registration_required,
                status=spec.status.value,
                rrule=spec.rrule,
                start_time=spec.start,
                end_time=spec.end,
                timezone=TZ,
                active_from=spec.active_from,
                description=spec.description,
                created_at=now(),
            )
        )
        for account_id, _ in organisers:
            self.rows.add(GroupMembership(id=uuid4(), account=account_id, group=group_id, joined_at=now()))
        if spec.grant:
            first_year = max(fiscal_year(spec.active_from), fiscal_year(self.today) - rng.randint(0, 2))
            self.rows.add(
                GroupGrant(
                    id=uuid4(), group=group_id, programme=programme_ids[spec.grant], first_fiscal_year=first_year
                )
            )
        run = GroupRun(spec, group_id, ibasho_id, organisers)
        mix = PEOPLE_MIX[spec.kind]
        seen: set[str] = set()
        while len(run.people) < spec.people:
            category = rng.choices(list(mix), weights=list(mix.values()))[0]
            name, kana = _person_name(rng, category)
            if name in seen:
                continue
            seen.add(name)
            person_id = uuid4()
            contact = f"0422-00-{rng.randint(1000, 9999)}" if spec.registration_required else ""
            self.rows.add(
                Person(
                    id=person_id,
                    group=group_id,
                    display_name=name,
                    kana=kana,
                    category=category,
                    contact=contact,
                    updated_at=now(),
                )
            )
            run.people.append((person_id, name, category, rng.uniform(0.55, 0.95)))
        return run

    # --- sessions

    def _past_dates(self, spec: GroupSpec) -> list[date]:
        start = self.today - relativedelta(years=1)
        last = self.today - timedelta(days=1)
        if spec.status is IbashoStatus.paused:
            last = self.today - timedelta(days=120)  # paused since about four months ago
        return occurrences(spec.rrule, spec.active_from, start, last)

    def _session(self, run: GroupRun, day: date, status: SessionStatus, **extra) -> UUID:
        spec = run.spec
        session_id = uuid4()
        starts, ends = session_times(day, spec.start, spec.end, TZ)
        past = status is not SessionStatus.scheduled
        self.rows.add(
            Session(
                id=session_id,
                group=run.group_id,
                ibasho=run.ibasho_id,
                kind=SessionKind.session.value,
                title=spec.ibasho,
                date=day,
                start_time=spec.start,
                end_time=spec.end,
                venue=spec.venue,
                status=status.value,
                venue_cost=spec.venue_cost if status is SessionStatus.held else None,
                from_schedule=True,
                created_at=utc(starts - timedelta(days=30)) if past else now(),
                updated_at=utc(ends + timedelta(hours=2)) if past else now(),
                **extra,
            )
        )
        self.stats[status.value] += 1
        return session_id

    def _history(self, run: GroupRun, cancelled: dict) -> None:
        for number, day in enumerate(self._past_dates(run.spec)):
            reason = cancelled.get((run.spec.key, day))
            if reason is None and not date(day.year, 1, 4) <= day <= date(day.year, 12, 28):
                reason = "年末年始のため休み。"
            if reason:
                session_id = self._session(run, day, SessionStatus.cancelled, review_state=ReviewState.reviewed.value)
                self.rows.add(
                    Note(
                        id=session_id,
                        session=session_id,
                        handover=f"{reason}参加者へは電話とLINEで連絡済み。",
                        updated_at=now(),
                    )
                )
                continue
            self._held(run, day, number)

    def _held(self, run: GroupRun, day: date, number: int) -> None:
        rng, spec = self.rng, run.spec
        concern_person = None
        if rng.random() < 0.12:
            concern_person = rng.choice(run.people)
        age = (self.today - day).days
        review, comment = ReviewState.unreviewed, ""
        if concern_person and age > 14:
            review, comment = ReviewState.follow_up, "地域担当が次回訪問して様子をうかがいます。"
        elif age > 21 and rng.random() < 0.9:
            review = ReviewState.reviewed
        session_id = self._session(run, day, SessionStatus.held, review_state=review.value, review_comment=comment)
        _, ends = session_times(day, spec.start, spec.end, TZ)
        written = utc(ends + timedelta(minutes=30))

        present = 0
        for person_id, _, _, regularity in run.people:
            roll = rng.random()
            if roll < regularity:
                status = AttendanceStatus.present
                present += 1
            elif spec.registration_required:
                status = AttendanceStatus.absent_notified if rng.random() < 0.88 else AttendanceStatus.absent_unnotified
            elif roll < regularity + 0.05:
                status = AttendanceStatus.absent_notified
            else:
                continue
            self.rows.add(
                Attendance(
                    id=f"{session_id}:{person_id}",
                    session=session_id,
                    person=person_id,
                    status=status.value,
                    updated_at=written,
                )
            )
            if status is AttendanceStatus.absent_unnotified:
                self._safety_check(run, session_id, person_id, ends)

        counts = {category: rng.randint(*span) for category, span in WALK_INS[spec.kind].items()}
        if day.month == 8 and spec.kind is K.kodomo_shokudo:
            counts["child"] += 4  # summer holidays
        for category in TALLY_CATEGORIES:
            self.rows.add(
                Tally(
                    id=f"{session_id}:{category}",
                    session=session_id,
                    category=category,
                    delta_sum=counts[category],
                    updated_at=written,
                )
            )

        for index, role in enumerate(ROLES[spec.kind]):  # 輪番: roles rotate between the organisers
            members = [run.organisers[(index + number) % len(run.organisers)]]
            if role == "調理":
                members = run.organisers
            for member_id, _ in members:
                self.rows.add(
                    RoleAssignment(
                        id=f"{session_id}:{role}:{member_id}",
                        session=session_id,
                        role=role,
                        member=member_id,
                        updated_at=written,
                    )
                )

        self._note(run, session_id, day, present + sum(counts.values()), counts["first_time"], concern_person, written)

    def _note(
        self, run: GroupRun, session_id: UUID, day: date, total: int, first_time: int, concern_person, written: datetime
    ) -> None:
        rng, kind = self.rng, run.spec.kind
        values = {
            "total": total,
            "first_time": max(first_time, 1),
            "season": SEASON[day.month],
            "menu": rng.choice(MENUS),
            "next_season": SEASON[day.month % 12 + 1],
            "organiser": rng.choice(run.organisers)[1],
        }
        went_well = rng.sample(WENT_WELL + WENT_WELL_BY_KIND[kind], 2)
        concerns = ""
        if concern_person is not None:
            _, name, category, _ = concern_person
            concerns = rng.choice(CONCERNS["senior" if category in ("senior", "adult") else "young"]).format(name=name)
        self.rows.add(
            Note(
                id=session_id,
                session=session_id,
                went_well="\n".join(text.format(**values) for text in went_well),
                to_improve=rng.choice(TO_IMPROVE + TO_IMPROVE_BY_KIND[kind]),
                handover=rng.choice(HANDOVER).format(**values),
                concerns=concerns,
                updated_at=written,
            )
        )

    def _safety_check(self, run: GroupRun, session_id: UUID, person_id: UUID, ends: datetime) -> None:
        """安否確認 of a registered participant absent without notice: closed, unless very recent."""
        opened = utc(ends)
        if (self.today - ends.date()).days <= 10:
            self.rows.add(SafetyCheck(id=uuid4(), session=session_id, person=person_id, opened_at=opened))
            return
        contacted = utc(ends + timedelta(hours=self.rng.randint(1, 5)))
        self.rows.add(
            SafetyCheck(
                id=uuid4(),
                session=session_id,
                person=person_id,
                outcome=SafetyCheckOutcome.safe.value,
                contacted_by=self.rng.choice(run.organisers)[1],
                contacted_at=contacted,
                method="phone",
                notes=self.rng.choice(SAFETY_NOTES),
                opened_at=opened,
                closed_at=contacted,
            )
        )

    def _upcoming(self, run: GroupRun) -> None:
        if run.spec.status is IbashoStatus.paused:
            return
        for day in occurrences(run.spec.rrule, run.spec.active_from, self.today, self.today + relativedelta(months=3)):
            self._session(run, day, SessionStatus.scheduled)

    def _meetings(self, runs: list[GroupRun]) -> None:
        by_key = {run.spec.key: run for run in runs}

        def meeting(
            key: str, title: str, day: date, starts: time, ends: time, venue: str, agenda: str, with_ibasho: bool
        ) -> None:
            run = by_key[key]
            past = day < self.today
            self.rows.add(
                Session(
                    id=uuid4(),
                    group=run.group_id,
                    ibasho=run.ibasho_id if with_ibasho else None,
                    kind=SessionKind.meeting.value,
                    title=title,
                    date=day,
                    start_time=starts,
                    end_time=ends,
                    venue=venue,
                    status=(SessionStatus.held if past else SessionStatus.scheduled).value,
                    agenda=agenda,
                    review_state=(ReviewState.reviewed if past else ReviewState.unreviewed).value,
                    created_at=now(),
                    updated_at=now(),
                )
            )
            self.stats["meetings"] += 1

        def weekday(offset_days: int, weekday_index: int) -> date:
            day = self.today + timedelta(days=offset_days)
            return day + timedelta(days=(weekday_index - day.weekday()) % 7)

        meeting(
            "kirakura",
            "反省会（上半期のふりかえり）",
            weekday(-70, 2),
            time(18, 30),
            time(20),
            "西部コミュニティセンター 会議室",
            "上半期の参加者数のふりかえり\n食材費と参加費の見直し\nボランティア募集チラシの作成\n来年度の助成申請",
            True,
        )
        meeting(
            "sumire",
            "反省会",
            weekday(-40, 4),
            time(14, 30),
            time(15, 30),
            "すみれの家",
            "役割分担表（輪番）の見直し\n冬季の暖房費\n差し入れのルール",
            True,
        )
        meeting(
            "nadeshiko",
            "推進委員会",
            weekday(18, 3),
            time(14),
            time(15, 30),
            "境南コミュニティセンター 会議室",
            "次年度の活動計画\nいきいきサロン助成の申請\n安否確認の連絡網の見直し\n地域包括支援センターとの意見交換",
            False,
        )
        meeting(
            "kirin",
            "打ち合わせ",
            weekday(10, 0),
            time(19),
            time(20),
            "本町コミュニティセンター 学習室",
            "冬休みの特別学習会の日程\n大学生ボランティアのシフト",
            False,
        )


# --- loading ----------------------------------------------------------------------------


async def insert_in_chunks(table: type[Table], rows: Sequence[Table]) -> None:
    for index in range(0, len(rows), CHUNK):
        await table.insert(*rows[index : index + CHUNK])


async def _create_accounts(logins: Sequence[DemoLogin]) -> dict[str, UUID]:
    """Through ``create_user`` (checks, Argon2 hash) once per distinct password; the other
    accounts sharing that password reuse its hash, to keep loading fast."""
    ids: dict[str, UUID] = {}
    hashes: dict[str, str] = {}
    rows = []
    for login in logins:
        if login.password not in hashes:
            ids[login.login] = await create_user(login.login, login.password, login.role, login.display_name)
            row = await Account.select(Account.password_hash).where(Account.id == ids[login.login]).first()
            hashes[login.password] = row["password_hash"]
            continue
        ids[login.login] = uuid4()
        rows.append(
            Account(
                id=ids[login.login],
                login=login.login,
                login_key=login_key(login.login),
                display_name=login.display_name,
                password_hash=hashes[login.password],
                role=login.role,
                created_at=now(),
            )
        )
    await insert_in_chunks(Account, rows)
    return ids


async def _programmes() -> dict[str, UUID]:
    """The grant programmes, reusing any already registered under the same name."""
    ids = {}
    for grant in GRANTS:
        row = await GrantProgramme.select(GrantProgramme.id).where(GrantProgramme.name == grant.values["name"]).first()
        if row is None:
            row = {"id": uuid4()}
            await GrantProgramme.insert(GrantProgramme(id=row["id"], **grant.values))
        ids[grant.key] = row["id"]
    return ids


async def _blockers(logins: Sequence[DemoLogin]) -> list[str]:
    """Why the demo cannot be added to this database (it is there already, or its names are taken)."""
    problems = []
    areas = await Area.select(Area.name).where(Area.name.is_in([a.name for a in AREAS]))
    if areas:
        problems.append("areas " + ", ".join(row["name"] for row in areas) + " exist")
    taken = await Account.select(Account.login).where(Account.login.is_in([login.login for login in logins]))
    if taken:
        names = [row["login"] for row in taken]
        problems.append(
            f"{len(names)} of its logins are taken ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"
        )
    return problems


def print_logins(logins: Sequence[DemoLogin]) -> None:
    print("\nDemo logins (sign in at /login):")
    print(f"  {'login':<14} {'password':<14} {'role':<10} who")
    for login in logins:
        print(f"  {login.login:<14} {login.password:<14} {login.role:<10} {login.display_name}　{login.where}")
    print(flush=True)


async def load_demo(force: bool = False) -> None:
    """Load the demo council, unless the database has areas already (``force`` loads it
    beside other data, but never twice)."""
    started = clock.perf_counter()
    if not force and (existing := await Area.count()):
        print(
            f"ibasho demo: the database already has {existing} area(s); "
            "not loading the demo (use --force to add it anyway)."
        )
        return
    logins = demo_logins()
    if problems := await _blockers(logins):
        print(f"ibasho demo: not loading, the demo council seems to be loaded already ({'; '.join(problems)}).")
        return
    today = datetime.now(zone(TZ)).date()
    async with write_transaction():
        accounts = await _create_accounts(logins)
        programme_ids = await _programmes()
        builder = DemoBuilder(random.Random(SEED), today, accounts, logins)
        rows = builder.build(programme_ids)
        for table, table_rows in rows.tables.items():
            await insert_in_chunks(table, table_rows)
    await backfill_change_log()  # so organisers' phones receive the demo by pull
    seconds = clock.perf_counter() - started
    stats = builder.stats
    print(
        f"ibasho demo: loaded {COUNCIL} in {seconds:.1f} s: {rows.count(Area)} areas, {rows.count(Group)} groups, "
        f"{stats['held']} sessions held and {stats['cancelled']} cancelled in the past year, "
        f"{stats['scheduled']} scheduled "
        f"in the next 3 months, {stats['meetings']} meetings, {rows.count(Person)} registered people, "
        f"{rows.count(Attendance)} attendances, {rows.count(Tally)} tallies, "
        f"{rows.count(RoleAssignment)} role assignments, "
        f"{rows.count(Note)} notes, {rows.count(SafetyCheck)} safety checks, {len(GRANTS)} grant programmes."
    )
    print_logins(logins)


async def load_demo_if_empty() -> None:
    """For ``ibasho serve --demo``: load the demo only into a database without areas;
    where the demo was loaded before, remind of its logins."""
    if not await Area.count():
        await load_demo()
    elif await Area.exists().where(Area.name == AREAS[0].name):
        print("ibasho demo: the demo council is loaded already; its logins, unless changed since:")
        print_logins(demo_logins())
