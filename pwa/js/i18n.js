// Interface text. Japanese first; English for those who prefer it.
const MESSAGES = {
  ja: {
    app: "いばしょ", login: "ログイン", login_name: "ログイン名", password: "パスワード",
    login_failed: "ログイン名またはパスワードが違います", logout: "ログアウト",
    logout_unsent: "まだ送信していない変更が{n}件あります。ログアウトして別の人がログインすると消えてしまいます。ログアウトしますか？",
    today: "今日", upcoming: "これからの予定", past: "これまで", no_sessions: "予定はまだありません",
    new_session: "開催回・会議を追加", roster: "名簿", attendance: "出欠", tallies: "人数", roles: "役割", notes: "反省会",
    present: "出席", absent_notified: "連絡あり欠席", absent_unnotified: "無断欠席", not_marked: "未記録",
    present_count: "出席 {n}人 / {total}人", total: "合計", participants_total: "参加者の合計（ボランティアを除く）", child: "子ども", adult: "大人", senior: "高齢者",
    parent_child: "親子", first_time: "初参加", volunteer: "ボランティア",
    went_well: "うまくいったこと", to_improve: "課題", handover: "次回への申し送り", concerns: "気になる参加者",
    sensitive: "個人情報です。団体の運営メンバーと担当職員だけが見られます。",
    conflict: "別の端末の記録（{when}）", keep_both: "両方をつなげる", dismiss: "取り消す", save: "保存",
    saved: "保存しました", suggested: "おすすめ: {name}（しばらく担当していません）",
    add_person: "参加者を追加", name: "お名前", kana: "ふりがな", category: "区分", remove: "削除", edit: "編集",
    confirm_remove: "{name}さんを名簿から削除しますか？", back: "戻る",
    kind: "種類", session: "開催回", meeting: "会議", event: "行事", title: "名前", date: "日付", start: "開始", end: "終了",
    venue: "会場", agenda: "会議内容", create: "作成",
    reminders: "お知らせ（通知）", reminders_usual: "いつもどおり（前日と直前）", reminders_day_before_only: "前日だけ",
    reminders_hours_before_only: "直前だけ", reminders_no_reminders: "送らない",
    online: "オンライン", offline: "オフライン", waiting: "未送信 {n}件", all_sent: "すべて送信済み",
    last_synced: "最終同期 {time}", never_synced: "未同期", syncing: "同期中…", rejected: "受け付けられなかった変更",
    update_ready: "新しいバージョンがあります", reload: "再読み込み", language: "English",
    cancelled: "中止", held: "開催済み", scheduled: "予定", postponed: "延期", status: "状態", staff_comment: "職員からのコメント",
    reminders: "通知", reminders_enable: "リマインダーを受け取る", reminders_on: "この端末に会議と担当のお知らせが届きます。",
    reminders_hint: "会議や、あなたの担当（調理など）の前日にお知らせします。",
    reminders_blocked: "通知がブロックされています。ブラウザの設定で許可してください。",
    reminders_unsupported: "iPhoneでは、共有ボタンから「ホーム画面に追加」したアプリで通知を受け取れます。",
    safety_checks: "安否確認", safety_hint: "無断欠席の登録者です。連絡がついたら結果を記録してください。",
    outcome_open: "未確認", outcome_safe: "無事", outcome_unreachable: "連絡つかず", outcome_needs_support: "要支援",
    method: "連絡方法", method_phone: "電話", method_visit: "訪問", method_message: "メッセージ",
    contacted_by: "連絡した人", safety_notes: "メモ", recorded: "記録 {when}",
    qr_button: "通知用QR", qr_loading: "QRコードを用意しています…", close: "閉じる", qr_alt: "{name}さんの通知用QRコード",
    qr_hint: "ご本人のスマートフォンで読み取ってもらうと、「欠席します」と返信できるお知らせが届くようになります（15分間有効）。",
    qr_offline: "QRコードはオンラインのときに表示できます",
    qr_choose: "どの居場所のお知らせですか",
    poster_link: "お知らせ用ポスター（{name}）",
    notice_ended: "この端末のログインは、社協の職員が終了しました。この端末にあった記録は消去しました。続けるには、もう一度ログインしてください。",
    notice_removed: "「{groups}」の運営メンバーから外れたため、この端末からその団体の記録を消去しました。",
  },
  en: {
    app: "ibasho", login: "Log in", login_name: "Login name", password: "Password",
    login_failed: "Wrong login name or password", logout: "Log out",
    logout_unsent: "{n} changes have not been sent yet. If someone else logs in on this phone they will be lost. Log out anyway?",
    today: "Today", upcoming: "Upcoming", past: "Past", no_sessions: "Nothing scheduled yet",
    new_session: "Add a session or meeting", roster: "Roster", attendance: "Attendance", tallies: "Counts", roles: "Roles", notes: "Reflection",
    present: "Present", absent_notified: "Absent (told us)", absent_unnotified: "Absent (no word)", not_marked: "Not marked",
    present_count: "{n} of {total} present", total: "Total", participants_total: "Participants (volunteers apart)", child: "Children", adult: "Adults", senior: "Seniors",
    parent_child: "Parent & child", first_time: "First time", volunteer: "Volunteers",
    went_well: "What went well", to_improve: "To improve", handover: "For next time", concerns: "Participants we worry about",
    sensitive: "Personal information: only the group's organisers and its area staff can see this.",
    conflict: "Written on another phone ({when})", keep_both: "Join both", dismiss: "Discard", save: "Save",
    saved: "Saved", suggested: "Suggestion: {name} (not on this duty lately)",
    add_person: "Add a participant", name: "Name", kana: "Reading (kana)", category: "Category", remove: "Remove", edit: "Edit",
    confirm_remove: "Remove {name} from the roster?", back: "Back",
    kind: "Kind", session: "Session", meeting: "Meeting", event: "Event", title: "Title", date: "Date", start: "Start", end: "End",
    venue: "Venue", agenda: "Agenda", create: "Create",
    reminders: "Reminders", reminders_usual: "As usual (the day before and shortly before)",
    reminders_day_before_only: "The day before only", reminders_hours_before_only: "Shortly before only",
    reminders_no_reminders: "None",
    online: "Online", offline: "Offline", waiting: "{n} waiting", all_sent: "All sent",
    last_synced: "Synced {time}", never_synced: "Not synced yet", syncing: "Syncing…", rejected: "Changes the server refused",
    update_ready: "A new version is ready", reload: "Reload", language: "日本語",
    cancelled: "Cancelled", held: "Held", scheduled: "Scheduled", postponed: "Postponed", status: "Status", staff_comment: "Comment from staff",
    reminders: "Reminders", reminders_enable: "Get reminders", reminders_on: "Meeting and duty reminders come to this phone.",
    reminders_hint: "The day before a meeting or a duty of yours (cooking, …).",
    reminders_blocked: "Notifications are blocked. Allow them in the browser's settings.",
    reminders_unsupported: "On an iPhone, add the app to the Home Screen (Share button) to get reminders.",
    safety_checks: "Safety checks", safety_hint: "Registered and absent without word. Record how they are once you reach them.",
    outcome_open: "Not yet reached", outcome_safe: "Safe", outcome_unreachable: "Unreachable", outcome_needs_support: "Needs support",
    method: "How", method_phone: "Phone", method_visit: "Visit", method_message: "Message",
    contacted_by: "Contacted by", safety_notes: "Notes", recorded: "Recorded {when}",
    qr_button: "Reminder QR", qr_loading: "Preparing the QR code…", close: "Close", qr_alt: "Reminder QR code for {name}",
    qr_hint: "Let them scan it with their own phone: their reminders will then let them reply “I will not come” (valid for 15 minutes).",
    qr_offline: "The QR code can be shown only when online",
    qr_choose: "Reminders of which ibasho?",
    poster_link: "Reminder poster ({name})",
    notice_ended: "Council staff ended the login on this phone. The records it held have been deleted. Log in again to continue.",
    notice_removed: "You are no longer an organiser of {groups}: its records have been deleted from this phone.",
  },
};


let language = localStorage.getItem("ibasho-language") ?? "ja";

export function lang() {
  return language;
}

export function setLang(next) {
  language = next;
  localStorage.setItem("ibasho-language", next);
  document.documentElement.lang = next;
}

export function t(key, values = {}) {
  const text = MESSAGES[language][key] ?? MESSAGES.ja[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

const WEEKDAYS_JA = "日月火水木金土";

export function formatDate(iso) {
  const day = new Date(`${iso}T00:00:00`);
  if (language === "ja") return `${day.getMonth() + 1}月${day.getDate()}日(${WEEKDAYS_JA[day.getDay()]})`;
  return day.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" });
}

export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString(language === "ja" ? "ja-JP" : "en-GB", { hour: "2-digit", minute: "2-digit" });
}
