"""What the demo council is made of: its areas, groups and their ibasho, grant rules, the
names of people, and what organisers write in their notes. server/ops/demo.py builds a
year of history from it.

Drawn from the council's own booklet 「居場所のチカラ」 (see docs/domain.md): きらくら meets on
the first Sunday, 10:00–13:00, at the 西部コミュニティセンター; すみれの家 on the third
Friday, 11:00–14:00, in an empty house in 境南町. Where the booklet gives only a name and
a district, the venue and rhythm are invented but plausible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from server.grants.presets import PRESETS
from server.tables import Audience, IbashoKind, IbashoStatus

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
    """A demo programme: its name and rules as the JSON form of docs/grants.md (no versions)."""

    key: str
    programme: dict


GRANTS = (
    GrantSpec("musashino", PRESETS["musashino"]),
    GrantSpec("startup", {**PRESETS["aomori"], "notes": PRESETS["aomori"]["notes"] + "（ルールの違いを示すデモ用）"}),
    GrantSpec(
        "ikiiki",
        {
            "name": "いきいきサロン",
            "council": COUNCIL,
            "notes": "週１回以上、１回２時間以上、65歳以上の登録制サロン。上限20万円（１回あたりの額はデモ用の仮定）。",
            "rules": {
                "sessions": {"min_minutes": 120},
                "requirements": {"registration": True},
                "components": [{"kind": "per_session", "amount": 4000, "label": "活動費"}],
                "caps": {"per_year": 200000},
            },
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
