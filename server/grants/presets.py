"""Real councils' grant rules, ready to add: Musashino's and Aomori's (docs/domain.md) and
the formulas collected in docs/grants.md, each with where it is published.

Each preset is the JSON form of a programme (docs/grants.md) without its versions: an
admin adds it from a chosen fiscal year. Where a 要綱 also limits the grant to the
group's net expenses, ibasho shows the formula's amount, the most that can be paid
(ibasho records no expenses besides the venue cost); the notes say so.
"""

from __future__ import annotations

from server.grants.model import Rules

PROFESSIONAL = "専門職"  # the role an organiser assigns to the professional present at a 認知症カフェ

PRESETS: dict[str, dict] = {
    "musashino": {
        "name": "身近な地域の居場所づくり助成",
        "council": "武蔵野市民社会福祉協議会",
        "source": "https://www.shakyou.or.jp/costs.html",
        "notes": "2か月に1回以上、1回おおむね2時間以上。活動費1回2,500円＋会場費（実費、1回2,500円まで）、"
        "年10万円まで。",
        "rules": {
            "sessions": {"min_minutes": 120},
            "requirements": {"every_months": 2},
            "components": [
                {"kind": "per_session", "amount": 2500, "label": "活動費"},
                {"kind": "venue", "cap": 2500, "per": "session", "label": "会場費"},
            ],
            "caps": {"per_year": 100000},
        },
    },
    "aomori": {
        "name": "「みんなの居場所」スタートアップ事業",
        "council": "青森県社会福祉協議会",
        "source": "https://www.aosyakyo.or.jp/ （「みんなの居場所」&「こどもの居場所」のページ）",
        "notes": "居場所づくりを始める個人・団体に、3年間まで毎年度5万円。",
        "rules": {
            "requirements": {"eligible_years": 3},
            "components": [{"kind": "startup", "amount": 50000, "years": 3, "label": "スタートアップ助成"}],
        },
    },
    "date": {
        "name": "いきいきふれあいサロン助成",
        "council": "伊達市社会福祉協議会",
        "source": "https://dateshisyakyou.org/pages/65/detail=1/b_id=408/r_id=102",
        "notes": "基礎額は年6回以上の開催で年15,000円、加算額は登録人数1人200円、立ち上げ時は初回のみ10,000円以内。"
        "後期からの開始（基礎額7,500円）はこの登録では扱わない。登録人数は4月1日の名簿で数える。",
        "rules": {
            "components": [
                {"kind": "fixed", "amount": 15000, "label": "基礎額", "when": {"min_sessions": 6}},
                {"kind": "per_member", "amount": 200, "on": "04-01", "label": "加算額（登録人数）"},
                {"kind": "startup", "amount": 10000, "years": 1, "label": "立ち上げ時活動支援金"},
            ],
        },
    },
    "onga": {
        "name": "遠賀町認知症カフェ運営補助金",
        "council": "遠賀町",
        "source": "https://www.town.onga.lg.jp/soshiki/10/38982.html",
        "notes": "おおむね年4回以上、1回2時間程度、医療・福祉の専門職を1名以上配置。運営費は開催回数×5,000円"
        "（1か月2回まで）、初期費用は初年度のみ30,000円まで。要綱は経費から収入を引いた額も上限とする。",
        "rules": {
            "sessions": {"min_minutes": 120, "roles": [PROFESSIONAL]},
            "requirements": {"min_sessions": 4},
            "components": [
                {"kind": "per_session", "amount": 5000, "label": "運営費"},
                {"kind": "startup", "amount": 30000, "years": 1, "label": "初期費用"},
            ],
            "caps": {"per_month": 10000},
        },
    },
    "makubetsu": {
        "name": "幕別町認知症カフェ運営補助金",
        "council": "幕別町",
        "source": "https://www.town.makubetsu.lg.jp/kenko/kaigoshien/ninchisho/1316.html",
        "notes": "相談に応じる専門職を1人以上配置。1,000円×開催回数、同一年度12回まで。",
        "rules": {
            "sessions": {"roles": [PROFESSIONAL]},
            "components": [{"kind": "per_session", "amount": 1000, "max_sessions": 12, "label": "運営費"}],
        },
    },
    "okagaki": {
        "name": "岡垣町認知症カフェ運営補助金",
        "council": "岡垣町",
        "source": "http://210.175.207.88/s047/ninchishou/010/20170404081009.html",
        "notes": "月1回以上、1回2時間以上、保健師・社会福祉士などを1人以上配置。1回6,000円、年144,000円まで。"
        "要綱は経費から利用者負担金などを引いた額が低ければその額とする。",
        "rules": {
            "sessions": {"min_minutes": 120, "roles": [PROFESSIONAL]},
            "requirements": {"sessions_each_month": 1},
            "components": [{"kind": "per_session", "amount": 6000, "label": "運営費"}],
            "caps": {"per_year": 144000},
        },
    },
    "niigata_chanoma": {
        "name": "地域の茶の間助成（月1回型）",
        "council": "新潟市",
        "source": "https://joseikin-insight.com/grants/%e3%80%902025%e5%b9%b4%e3%80%91%e6%96%b0%e6%bd%9f%e5%b8%82"
        "%e5%9c%b0%e5%9f%9f%e3%81%ae%e8%8c%b6%e3%81%ae%e9%96%93%e5%8a%a9%e6%88%90%ef%bd%9c%e6%9c%80%e5%a4%a76%e4"
        "%b8%87%e5%86%86%e3%83%bb%e5%9c%b0 （新潟市の制度の紹介記事）",
        "notes": "2,500円×活動月数、年30,000円まで（月2回型は5,000円×活動月数、年60,000円まで）。",
        "rules": {
            "components": [{"kind": "per_month", "amount": 2500, "min_sessions": 1, "label": "活動月"}],
            "caps": {"per_year": 30000},
        },
    },
    "niigata_club": {
        "name": "老人クラブ補助金",
        "council": "新潟市",
        "source": "https://joseikin-insight.com/grants/%e3%80%902025%e5%b9%b4%e3%80%91%e6%96%b0%e6%bd%9f%e5%b8%82"
        "%e8%80%81%e4%ba%ba%e3%82%af%e3%83%a9%e3%83%96%e8%a3%9c%e5%8a%a9%e9%87%91%ef%bd%9c%e6%9c%80%e5%a4%a7%e7%b4"
        "%8420%e4%b8%87%e5%86%86%e3%83%bb （新潟市の制度の紹介記事）",
        "notes": "活動割3,000円×年間活動月数＋会員割360円×4月1日の会員数。要綱は補助対象経費が低ければその額とする。",
        "rules": {
            "components": [
                {"kind": "per_month", "amount": 3000, "min_sessions": 1, "label": "活動割"},
                {"kind": "per_member", "amount": 360, "on": "04-01", "label": "会員割"},
            ],
        },
    },
    "nanto": {
        "name": "ふれあい・いきいきサロン活動助成",
        "council": "南砺市社会福祉協議会",
        "source": "https://paperzz.com/doc/6460108/ （南砺市社協「サロン助成金の使い方に関するQ&A」）",
        "notes": "高齢者5人以上、年4回以上50回まで。1回あたりの基準額は年間平均の高齢者の参加人数で決まる"
        "（集落単位：5〜20人3,000円、21〜40人5,000円、41人以上8,000円）。",
        "rules": {
            "requirements": {"min_sessions": 4},
            "components": [
                {
                    "kind": "per_session",
                    "amount": 3000,
                    "max_sessions": 50,
                    "label": "基準額（平均5〜20人）",
                    "when": {"min_average": 5, "max_average": 20, "categories": ["senior"]},
                },
                {
                    "kind": "per_session",
                    "amount": 5000,
                    "max_sessions": 50,
                    "label": "基準額（平均21〜40人）",
                    "when": {"min_average": 21, "max_average": 40, "categories": ["senior"]},
                },
                {
                    "kind": "per_session",
                    "amount": 8000,
                    "max_sessions": 50,
                    "label": "基準額（平均41人以上）",
                    "when": {"min_average": 41, "categories": ["senior"]},
                },
            ],
        },
    },
    "kusatsu": {
        "name": "地域サロン活動助成",
        "council": "草津市",
        "source": "https://www.city.kusatsu.shiga.jp/fukushikenko/koreisha/activities/chisarohojyo.html",
        "notes": "毎月2回程度（年20回以上）で年50,000円、毎月1回程度（年10回以上）で年25,000円。"
        "新たに開設するサロンへの開設費の助成はこの登録では扱わない。",
        "rules": {
            "requirements": {"min_sessions": 10},
            "components": [
                {"kind": "fixed", "amount": 50000, "label": "年20回以上", "when": {"min_sessions": 20}},
                {
                    "kind": "fixed",
                    "amount": 25000,
                    "label": "年10回以上",
                    "when": {"min_sessions": 10, "max_sessions": 19},
                },
            ],
        },
    },
    "ofunato": {
        "name": "高齢者交流サロン運営事業補助金",
        "council": "大船渡市",
        "source": "http://blog.canpan.info/ofntshimin/daily/201605/06 （大船渡市の募集案内の転載）",
        "notes": "運営費は開催1回につき実費で1,000円まで、会場賃借料は実費で月10,000円まで。"
        "運営費の実費は記録しないため、1回1,000円として数える。拠点整備費（1回限り）はこの登録では扱わない。",
        "rules": {
            "components": [
                {"kind": "per_session", "amount": 1000, "label": "運営費"},
                {"kind": "venue", "cap": 10000, "per": "month", "label": "会場賃借料"},
            ],
        },
    },
    "kazuno": {
        "name": "地域生き活きサロン推進事業（運営費）",
        "council": "鹿角市",
        "source": "https://www.city.kazuno.lg.jp/soshiki/chojushien/chojuseikatsu/gyomu/1/2/2618.html",
        "notes": "原則週1回以上・年40回以上、1回2時間以上。運営費は開設1回1,200円（要した費用が少なければその額）。",
        "rules": {
            "sessions": {"min_minutes": 120},
            "requirements": {"min_sessions": 40},
            "components": [{"kind": "per_session", "amount": 1200, "label": "運営費"}],
        },
    },
}


def preset_rules(key: str) -> Rules:
    return Rules.from_json(PRESETS[key]["rules"])
