// The neighbourhood head's console, in the same shell as the volunteers' app (app.js loads
// first and owns sign-in, the token, `api()`, `t()` and the screen loop). Unlike the
// volunteer's screens it reads and writes the server directly: a head corrects the list of
// record, so every screen needs signal and says so when there is none. Screens are named
// `c-…`; app.js hands them here through `consoleScreen`, `consoleAction`, `CONSOLE_FORMS`
// and `consoleChange`.
"use strict";

Object.assign(TEXT, {
  c_console: ["Quản lý khu phố", "Neighbourhood console"],
  until: ["hết hạn {d}", "expires {d}"],
  c_menu: ["← Trình đơn", "← Menu"],
  c_back_app: ["Về sổ tay tình nguyện viên", "Back to the volunteer notebook"],
  c_people: ["Người dân", "People"],
  c_households: ["Hộ gia đình", "Households"],
  c_conflicts: ["Xung đột cần xử lý", "Conflicts to resolve"],
  c_duplicates: ["Nghi trùng lặp", "Suspected duplicates"],
  c_import: ["Nhập danh sách hộ", "Import the register"],
  c_volunteers: ["Tình nguyện viên", "Volunteers"],
  c_activation: ["Danh sách ngày kích hoạt", "Activation-day list"],
  c_need_signal: ["Cần có mạng để xem và sửa danh sách của khu phố.", "The neighbourhood's lists need a connection."],
  c_try_again: ["Thử lại", "Try again"],
  c_search: ["Tìm theo tên hoặc địa chỉ (không cần dấu)", "Search by name or address (accents optional)"],
  c_search_people: ["Tìm theo tên (không cần dấu)", "Search by name (accents optional)"],
  c_choose_area: ["Khu phố", "Neighbourhood"],
  c_area_first: ["Hãy chọn một khu phố ở trình đơn trước.", "Choose a neighbourhood on the menu first."],
  c_same_now: ["Máy chủ đã có đúng các giá trị bạn nhập; không cần lưu gì thêm.", "The server already holds what you entered; nothing more to save."],
  c_gone: ["Bản ghi này không còn (có thể đã bị xóa hoặc gộp).", "This record is no longer there (it may have been deleted or merged)."],
  c_find: ["Tìm", "Search"],
  c_f_all: ["Tất cả", "All"],
  c_f_no_eid: ["Người lớn chưa có định danh điện tử", "Adults without e-ID"],
  c_f_pending: ["Mức 2 chờ duyệt", "Level 2 pending"],
  c_f_expiring: ["Chữ ký số hết hạn trong 60 ngày", "Signature expiring within 60 days"],
  c_f_not_visited: ["Chưa thăm 30 ngày", "Not visited for 30 days"],
  c_f_moved: ["Đã chuyển đi", "Moved away"],
  c_sort: ["Sắp xếp", "Sort"],
  c_sort_created: ["Theo thứ tự ghi", "In recorded order"],
  c_sort_name: ["Theo tên", "By name"],
  c_prev: ["← Trang trước", "← Previous page"],
  c_next: ["Trang sau →", "Next page →"],
  c_page: ["Trang {n}", "Page {n}"],
  c_none_found: ["Không có ai phù hợp.", "Nobody matches."],
  c_name: ["Họ và tên", "Full name"],
  c_born: ["Sinh", "Born"],
  c_eid: ["Định danh", "e-ID"],
  c_presence: ["Cư trú", "Residence"],
  p_present: ["Đang ở", "Lives here"], p_moved_away: ["Đã chuyển đi", "Moved away"], p_deceased: ["Đã mất", "Deceased"],
  c_address: ["Địa chỉ", "Address"],
  c_head_name: ["Chủ hộ", "Head of household"],
  c_phone: ["Số điện thoại", "Phone"],
  c_code: ["Mã hộ", "Register code"],
  c_last_visit: ["Lần thăm gần nhất", "Last visit"],
  c_never: ["Chưa bao giờ", "Never"],
  c_members: ["Thành viên", "Members"],
  c_history: ["Lịch sử trạng thái", "Status history"],
  c_no_history: ["Chưa có trạng thái nào được ghi.", "No status recorded yet."],
  c_correction: ["(sửa)", "(correction)"],
  c_voided: ["(đã hủy)", "(voided)"],
  c_visits: ["Các lần thăm", "Visits"],
  c_no_visits: ["Chưa có lần thăm nào.", "No visit yet."],
  c_edit: ["Sửa", "Edit"],
  c_edit_household: ["Sửa thông tin hộ", "Edit the household"],
  c_edit_person: ["Sửa thông tin người", "Edit the person"],
  c_fix_eid: ["Sửa định danh", "Correct e-ID"],
  c_erase: ["Xóa dữ liệu cá nhân", "Erase personal data"],
  c_void: ["Hủy lần thăm", "Void the visit"],
  c_reason: ["Lý do", "Reason"],
  c_save: ["Lưu", "Save"],
  c_cancel: ["Hủy bỏ", "Cancel"],
  c_saved: ["Đã lưu trên máy chủ", "Saved on the server"],
  c_stale: ["Người khác đã sửa bản ghi này trong lúc bạn sửa. Những gì bạn nhập vẫn còn trong ô; giá trị hiện tại trên máy chủ ghi bên dưới mỗi ô. Xem lại rồi bấm Lưu lần nữa.", "Someone else changed this record while you were editing. What you typed is still in the fields; the server's current value is shown under each. Check, then press Save again."],
  c_now_on_server: ["Trên máy chủ hiện là: {v}", "The server now has: {v}"],
  c_eid_level: ["Mức định danh đúng", "The correct e-ID level"],
  c_since: ["Từ ngày", "Since"],
  c_eid_note: ["Ghi là một lần sửa của trưởng khu phố: thay cho mức đã ghi trước, từ ngày này.", "Recorded as the head's correction: it replaces the level recorded before, from this date."],
  c_erase_what: ["Xóa dữ liệu cá nhân của {n}: họ tên, ngày và tháng sinh, số định danh cá nhân sẽ bị xóa vĩnh viễn; nếu là chủ hộ thì tên chủ hộ và số điện thoại của hộ cũng bị xóa. Chỉ còn năm sinh, giới tính và các trạng thái, không gắn với tên ai, để số liệu của phường vẫn đúng. Không thể hoàn tác.", "Erase {n}'s personal data: the name, the day and month of birth and the citizen ID are removed for ever; if this is the head of household, the household's head name and phone go too. Only the birth year, sex and the statuses remain, tied to no name, so the ward's figures stay right. This cannot be undone."],
  c_erase_confirm: ["Xóa vĩnh viễn", "Erase for ever"],
  c_erased: ["Đã xóa dữ liệu cá nhân", "Personal data erased"],
  c_conflict_field: ["{e} · {f}", "{e} · {f}"],
  c_open_household: ["Xem hộ", "Open the household"],
  c_kept: ["Máy chủ đang giữ", "The server keeps"],
  c_entered: ["Điện thoại đã gửi", "The phone sent"],
  c_keep_server: ["Giữ giá trị máy chủ", "Keep the server's value"],
  c_take_phone: ["Lấy giá trị điện thoại", "Take the phone's value"],
  c_no_conflicts: ["Không còn xung đột nào.", "No conflict left."],
  c_requests: ["Yêu cầu về dữ liệu cá nhân", "Personal-data requests"],
  c_no_requests: ["Không có yêu cầu nào đang mở.", "No open request."],
  c_received: ["Nhận ngày {d}", "Received {d}"],
  c_ack_by: ["Phản hồi trước {d}", "Acknowledge by {d}"],
  c_acked: ["Đã phản hồi ngày {d}", "Acknowledged {d}"],
  c_due: ["Hạn thực hiện {d}", "Due {d}"],
  c_days_left: ["còn {n} ngày", "{n} days left"],
  c_overdue: ["Quá hạn {n} ngày", "Overdue by {n} days"],
  c_acknowledge: ["Đã phản hồi người yêu cầu", "Acknowledged to the person"],
  c_overdue_count: ["{n} yêu cầu quá hạn", "{n} requests overdue"],
  c_unverified: ["thời hạn theo tóm tắt đã công bố, chưa đối chiếu văn bản", "deadline from published summaries, not checked against the text"],
  r_access: ["Xem dữ liệu", "Access"],
  r_correction: ["Chỉnh sửa dữ liệu", "Correction"],
  r_provision: ["Cung cấp dữ liệu", "Copy of the data"],
  r_erasure: ["Xóa dữ liệu", "Erasure"],
  r_restriction: ["Hạn chế xử lý", "Restriction"],
  r_consent_withdrawal: ["Rút lại sự đồng ý", "Consent withdrawal"],
  r_objection: ["Phản đối xử lý", "Objection"],
  c_by: ["Điện thoại gửi lúc {t}", "Sent from the phone at {t}"],
  c_left: ["Bản A", "Record A"],
  c_right: ["Bản B", "Record B"],
  c_keep_left: ["Gộp, giữ bản A", "Merge, keep A"],
  c_keep_right: ["Gộp, giữ bản B", "Merge, keep B"],
  c_not_same: ["Không phải một người", "Not the same person"],
  c_no_duplicates: ["Không còn nghi trùng lặp nào.", "No suspected duplicate left."],
  c_reason_citizen_id: ["Cùng số định danh cá nhân", "Same citizen ID"],
  c_reason_name_and_birth_date: ["Cùng họ tên và ngày sinh", "Same name and birth date"],
  c_template: ["Tải mẫu danh sách (CSV)", "Download the template (CSV)"],
  c_file: ["Tệp CSV hoặc XLSX", "CSV or XLSX file"],
  c_dry_run: ["Kiểm tra trước (chưa ghi gì)", "Check first (writes nothing)"],
  c_do_import: ["Nhập {n} dòng", "Import {n} rows"],
  c_report: ["{r} dòng · {hc} hộ mới · {hm} hộ đã có · {pc} người mới · {pm} người đã có", "{r} rows · {hc} new households · {hm} already there · {pc} new people · {pm} already there"],
  c_row_problems: ["{n} lỗi cần sửa trong tệp trước khi nhập:", "{n} problems to fix in the file before importing:"],
  c_row: ["Dòng", "Row"],
  c_column: ["Cột", "Column"],
  c_problem: ["Lỗi", "Problem"],
  c_imported: ["Đã nhập xong", "Imported"],
  c_checked_ok: ["Tệp hợp lệ. Bấm nhập để ghi.", "The file is valid. Press import to write it."],
  c_choose_file: ["Hãy chọn một tệp", "Choose a file"],
  c_inactive_days: ["Coi là không hoạt động sau (ngày)", "Inactive after (days)"],
  c_show: ["Xem", "Show"],
  c_inactive: ["Không hoạt động", "Inactive"],
  c_last_sync: ["Đồng bộ gần nhất: {t}", "Last sync: {t}"],
  c_week: ["Tuần này: {a} bản ghi · {r} bị từ chối", "This week: {a} records · {r} rejected"],
  c_queued: ["{n} thay đổi còn chờ trên máy", "{n} changes waiting on the phone"],
  c_device: ["Máy {id}: phiên bản {v} · gửi {p} · nhận {l}", "Device {id}: version {v} · pushed {p} · pulled {l}"],
  c_no_device: ["Chưa đồng bộ lần nào", "Never synced"],
  c_disable: ["Khóa tài khoản", "Disable the account"],
  c_disable_confirm: ["Khóa tài khoản của {n}? Người này sẽ bị đăng xuất trên mọi máy và không đăng nhập được nữa.", "Disable {n}'s account? They are signed out on every device and cannot sign in again."],
  c_disabled: ["Đã khóa", "Disabled"],
  c_assign: ["Giao cho {a}", "Assign to {a}"],
  c_unassign: ["Thôi giao {a}", "Unassign from {a}"],
  c_invite: ["Mời tình nguyện viên", "Invite a volunteer"],
  c_invite_hint: ["Nhập email để gửi thư mời, hoặc chỉ số điện thoại để nhận mã QR cho người đó quét.", "Enter an e-mail to send an invitation, or only a phone number to get a QR code for them to scan."],
  c_email: ["Email (không bắt buộc)", "E-mail (optional)"],
  c_send_invite: ["Mời", "Invite"],
  c_invite_sent: ["Đã gửi thư mời tới {e}.", "Invitation sent to {e}."],
  c_qr_title: ["Mã QR cho {n}", "QR code for {n}"],
  c_qr_once: ["Cho người được mời quét mã này bằng điện thoại (hoặc mở liên kết). Mã chỉ dùng một lần, hết hạn lúc {t}, và chỉ hiện lần này.", "Let the invited person scan this code with their phone (or open the link). It works once, expires at {t}, and is shown only now."],
  c_volunteers_none: ["Chưa có tình nguyện viên nào.", "No volunteer yet."],
  c_act_date: ["Ngày kích hoạt", "Activation day"],
  c_act_place: ["Địa điểm", "Place"],
  c_act_place_default: ["Nhà văn hóa khu phố", "The neighbourhood's community house"],
  c_print: ["In danh sách và phiếu", "Print the list and slips"],
  c_xlsx: ["Tải XLSX", "Download XLSX"],
  c_act_summary: ["{p} người ở {h} hộ còn thiếu định danh điện tử hoặc chữ ký (lập ngày {d}).", "{p} people in {h} households still lack an e-ID or a signature (made on {d})."],
  c_needs: ["Cần hỗ trợ", "Needs"],
  c_needs_eid: ["Cần tài khoản định danh điện tử", "Needs an e-ID account"],
  c_needs_sig: ["Cần chữ ký số/điện tử", "Needs a signature"],
  c_slip_title: ["GIẤY MỜI NGÀY KÍCH HOẠT ĐỊNH DANH ĐIỆN TỬ", "INVITATION TO THE E-ID ACTIVATION DAY"],
  c_slip_text: ["Kính mời các thành viên sau của hộ đến {p} ngày {d} để được hỗ trợ:", "The following members of the household are invited to {p} on {d} for help with:"],
  c_slip_bring: ["Mang theo: căn cước công dân và điện thoại di động của mình.", "Bring: your citizen ID card and your own mobile phone."],
  c_called: ["Đã gọi", "Called"],
  c_no_one: ["Mọi người lớn đã có định danh điện tử và chữ ký.", "Every adult has an e-ID and a signature."],
});

const C_FILTERS = {
  all: {},
  no_eid: () => ({ has_eid: "false", adult_on: today(), presence: "present" }),
  pending: { eid_level: "level2_pending" },
  expiring: { signature_expiring_within_days: "60" },
  not_visited: () => ({ not_visited_since: addDays(today(), -30) }),
  moved: { presence: "moved_away" },
};
const C_FILTER_LABEL = { all: "c_f_all", no_eid: "c_f_no_eid", pending: "c_f_pending", expiring: "c_f_expiring", not_visited: "c_f_not_visited", moved: "c_f_moved" };

/** Console state: kept in memory while the app runs, never stored on the device. */
function freshConsole() {
  return {
    people: { filter: "no_eid", q: "", sort: "name", cursors: [null] },
    households: { filter: "all", q: "", cursors: [null] },
    household: null, loaded: null, resident: null, etag: null, stale: null, changes: null, notice: "",
    importFile: null, importReport: null, importKey: null, invitation: null, inactiveDays: 7,
    activation: { date: "", place: "" }, activationList: null, confirm: null, area: null, areas: null, busy: false,
  };
}
let con = freshConsole();
/** Sign-out, another account, a wipe: nothing of the last head's work stays in memory. */
function resetConsole() { con = freshConsole(); }
/** Leaving a screen: what belonged to it goes (a file read for import, a pending confirmation). */
function leaveConsoleScreen() {
  Object.assign(con, { notice: "", invitation: null, confirm: null, importFile: null, importReport: null, importKey: null, activationList: null, stale: null, changes: null });
}
/** The neighbourhood the console works on: the head's own, or the one an administrator chose. */
function consoleArea(me) {
  if (me.role === "head") return me.area;
  return (con.areas || []).find((a) => a.id === con.area) || null;
}

class ConsoleRefused extends Error { constructor(problem) { super(problem.code || "refused"); this.problem = problem; } }

async function cGet(path) {
  const response = await api("GET", path);
  if (!response.ok) throw new ConsoleRefused(await problemOf(response));
  return { body: await response.json(), etag: response.headers.get("ETag") };
}
/** A console write; its problem (if any) is returned, never thrown, so the form stays. */
async function cSend(method, path, body, headers) {
  const extra = Object.assign({}, headers || {});
  if (method === "POST") extra["Idempotency-Key"] = uuidv7();
  const response = await api(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers: extra });
  if (response.ok) return { ok: true, body: response.status === 204 ? null : await response.json().catch(() => null), etag: response.headers.get("ETag") };
  return { ok: false, status: response.status, problem: await problemOf(response) };
}
function query(params) {
  const parts = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join("&")}` : "";
}
function filterParams(name) {
  const f = C_FILTERS[name] || {};
  return typeof f === "function" ? f() : f;
}
/** A problem in words: its field details (already in the caller's language) or its title. */
function fieldProblems(problem) {
  return problemText(problem) || t("save_failed");
}
/** A file from an authenticated GET, saved under the server's name (or `fallback`). */
async function download(path, fallback) {
  const response = await api("GET", path);
  if (!response.ok) { con.notice = problemText(await problemOf(response)); return; }
  const blob = await response.blob();
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = named ? named[1] : fallback;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function nav(title) {
  const notice = con.notice ? `<p class="card" id="c-notice" role="status">${esc(con.notice)}</p>` : "";
  return `<div class="spread no-print">${button("go", t("c_menu"), { cls: "text", arg: "c-home", id: "c-menu" })}${langSwitch()}</div><h1>${esc(title)}</h1>${notice}`;
}
function day(value) { return value ? showDate(String(value).slice(0, 10)) : t("c_never"); }
function when(instant) { return instant ? showTime(instant) : t("c_never"); }
function birthText(r) { return r.birth_date ? String(r.birth_date).split("-").reverse().join("/") : ""; }
function signatureText(r) {
  const base = t(`s_${r.signature}`);
  return r.signature === "digital" && r.signature_expires_on ? `${base} (${t("until", { d: showDate(r.signature_expires_on) })})` : base;
}

async function consoleScreen(name, me) {
  try {
    const screens = {
      "c-home": homeConsole, "c-people": peopleScreen, "c-households": householdsScreen, "c-household": householdPage,
      "c-household-edit": householdEdit, "c-resident-edit": residentEdit, "c-eid": eidCorrection, "c-erase": eraseScreen,
      "c-void": voidVisitScreen, "c-conflicts": conflictsScreen, "c-duplicates": duplicatesScreen, "c-import": importScreen,
      "c-volunteers": volunteersScreen, "c-activation": activationScreen, "c-requests": requestsScreen,
    };
    return await (screens[name] || homeConsole)(me);
  } catch (e) {
    if (e instanceof SignInEnded) { await signInEnded(); return ""; }
    if (e instanceof ConsoleRefused) return `${nav(t("c_console"))}<p class="error" id="c-refused">${esc(problemText(e.problem))}</p>`;
    if (e instanceof Unreachable) return `${nav(t("c_console"))}<p class="error" id="c-offline">${esc(t("c_need_signal"))}</p>${button("go", t("c_try_again"), { arg: name })}`;
    throw e;
  }
}

async function homeConsole(me) {
  let picker = "";
  if (me.role === "admin") {
    if (!con.areas) {
      try { con.areas = await allPages("/api/v1/areas", { kind: "neighbourhood", limit: 500 }); } catch (e) {
        // Without signal the menu still draws; the picker comes back with the connection.
        if (!(e instanceof Unreachable)) throw e;
      }
    }
    if (con.areas) picker = `<label for="c-area">${esc(t("c_choose_area"))}</label><select id="c-area" data-change="c-area"><option value="">—</option>${con.areas.map((a) => `<option value="${esc(a.id)}"${a.id === con.area ? " selected" : ""}>${esc(a.name)}</option>`).join("")}</select>`;
  }
  const entries = [["c-people", "c_people"], ["c-households", "c_households"], ["c-conflicts", "c_conflicts"], ["c-duplicates", "c_duplicates"],
    ["c-import", "c_import"], ["c-volunteers", "c_volunteers"], ["c-activation", "c_activation"], ["c-requests", "c_requests"]];
  const back = me.role === "head" ? button("go", t("c_back_app"), { cls: "text", arg: "home", id: "c-back-app" }) : button("signout", t("signout"), { cls: "text", id: "signout" });
  return `<div class="spread"><h1>${esc(t("c_console"))}</h1>${langSwitch()}</div>
<p class="muted">${esc(me.name)}${me.area ? ` · ${esc(me.area.name)}` : ""}</p>${picker}
<ul class="list menu">${entries.map(([s, label]) => `<li>${button("go", t(label), { cls: "item", arg: s, id: `${s}-open` })}</li>`).join("")}</ul>${back}`;
}

// ---------------------------------------------------------------- lists
function pager(state, next, kind) {
  const page = state.cursors.length;
  const prev = page > 1 ? button("c-page", t("c_prev"), { arg: `${kind}:prev`, id: `${kind}-prev` }) : "";
  const more = next ? button("c-page", t("c_next"), { arg: `${kind}:next`, id: `${kind}-next` }) : "";
  state.next = next;
  return `<div class="spread no-print">${prev}<span class="muted">${esc(t("c_page", { n: page }))}</span>${more}</div>`;
}
function searchForm(kind, state) {
  return `<form data-form="c-search" data-kind="${kind}" class="row no-print"><label for="c-q" class="grow">${esc(t(kind === "people" ? "c_search_people" : "c_search"))}<input id="c-q" name="q" type="search" value="${esc(state.q)}"></label><button type="submit" id="c-find">${esc(t("c_find"))}</button></form>`;
}
function filterButtons(kind, state, names) {
  return `<div class="choices no-print" id="${kind}-filters">${names.map((f) => button("c-filter", t(C_FILTER_LABEL[f]), { arg: `${kind}:${f}`, pressed: state.filter === f, id: `${kind}-filter-${f}` })).join("")}</div>`;
}

async function peopleScreen(me) {
  const s = con.people;
  const area = consoleArea(me);
  const params = Object.assign({ limit: 50, sort: s.sort, q: s.q, area_id: area && area.id, cursor: s.cursors[s.cursors.length - 1] }, filterParams(s.filter));
  const { body } = await cGet(`/api/v1/residents${query(params)}`);
  const rows = body.items.map((r) => `<tr><td><button type="button" class="text" data-action="c-open" data-arg="${esc(r.household_id)}">${esc(r.full_name || "—")}</button></td>
<td>${esc(birthText(r))}</td><td>${esc(t(`e_${r.eid_level}`))}</td><td>${esc(signatureText(r))}</td><td>${esc(t(`p_${r.presence}`))}</td></tr>`);
  const sort = `<label for="c-sort">${esc(t("c_sort"))}</label><select id="c-sort" data-change="c-sort"><option value="name"${s.sort === "name" ? " selected" : ""}>${esc(t("c_sort_name"))}</option><option value="created"${s.sort === "created" ? " selected" : ""}>${esc(t("c_sort_created"))}</option></select>`;
  return `${nav(t("c_people"))}${searchForm("people", s)}${filterButtons("people", s, ["no_eid", "pending", "expiring", "not_visited", "moved", "all"])}${sort}
<div class="scroll"><table class="table" id="people"><thead><tr><th>${esc(t("c_name"))}</th><th>${esc(t("c_born"))}</th><th>${esc(t("c_eid"))}</th><th>${esc(t("signature"))}</th><th>${esc(t("c_presence"))}</th></tr></thead>
<tbody>${rows.join("") || `<tr><td colspan="5" id="c-empty">${esc(t("c_none_found"))}</td></tr>`}</tbody></table></div>${pager(s, body.next_cursor, "people")}`;
}

async function householdsScreen(me) {
  const s = con.households;
  const area = consoleArea(me);
  const params = Object.assign({ limit: 50, q: s.q, area_id: area && area.id, cursor: s.cursors[s.cursors.length - 1] }, filterParams(s.filter));
  const { body } = await cGet(`/api/v1/households${query(params)}`);
  const rows = body.items.map((h) => `<tr><td>${esc(h.code || "")}</td><td><button type="button" class="text" data-action="c-open" data-arg="${esc(h.id)}">${esc(h.address)}</button></td><td>${esc(h.head_name)}</td><td>${esc(day(h.last_visited_on))}</td></tr>`);
  return `${nav(t("c_households"))}${searchForm("households", s)}${filterButtons("households", s, ["all", "not_visited"])}
<div class="scroll"><table class="table" id="households-table"><thead><tr><th>${esc(t("c_code"))}</th><th>${esc(t("c_address"))}</th><th>${esc(t("c_head_name"))}</th><th>${esc(t("c_last_visit"))}</th></tr></thead>
<tbody>${rows.join("") || `<tr><td colspan="4" id="c-empty">${esc(t("c_none_found"))}</td></tr>`}</tbody></table></div>${pager(s, body.next_cursor, "households")}`;
}

// ---------------------------------------------------------------- one household
async function loadHousehold(id) {
  const household = await cGet(`/api/v1/households/${id}`);
  const residents = await cGet(`/api/v1/residents${query({ household_id: id, limit: 500 })}`);
  const visits = await cGet(`/api/v1/households/${id}/visits`);
  const history = {};
  for (const r of residents.body.items) history[r.id] = (await cGet(`/api/v1/residents/${r.id}/status-events`)).body.items;
  return { household: household.body, etag: household.etag, residents: residents.body.items, visits: visits.body.items, history };
}
function eventText(e) {
  const value = e.kind === "eid" ? t(`e_${e.value}`) : e.kind === "signature" ? t(`s_${e.value}`) : e.value;
  const expiry = e.expires_on ? ` (${t("until", { d: showDate(e.expires_on) })})` : "";
  const label = e.kind === "eid" ? t("c_eid") : e.kind === "signature" ? t("signature") : e.kind;
  return `${showDate(e.effective_on)}: ${label} ${value}${expiry}${e.correction ? ` ${t("c_correction")}` : ""}${e.voided_at ? ` ${t("c_voided")}` : ""}`;
}
async function householdPage() {
  const data = await loadHousehold(con.household);
  con.loaded = data;
  const h = data.household;
  const members = data.residents.map((r) => {
    const events = (data.history[r.id] || []).slice().sort((a, b) => String(a.effective_on).localeCompare(String(b.effective_on)));
    const erased = Boolean(r.erased);
    const actions = erased ? "" : `<div class="row no-print">${button("c-edit-resident", t("c_edit"), { arg: r.id, id: `c-edit-${r.id}` })}${button("c-fix-eid", t("c_fix_eid"), { arg: r.id, id: `c-fix-${r.id}` })}${button("c-erase", t("c_erase"), { cls: "danger", arg: r.id, id: `c-erase-${r.id}` })}</div>`;
    return `<li class="card" id="member-${esc(r.id)}"><strong>${esc(r.full_name || "—")}</strong> · ${esc(birthText(r))} · ${esc(t(`p_${r.presence}`))}<br>
${esc(t("c_eid"))}: ${esc(t(`e_${r.eid_level}`))} · ${esc(t("signature"))}: ${esc(signatureText(r))}
<h3>${esc(t("c_history"))}</h3><ol class="history">${events.map((e) => `<li class="${e.voided_at ? "struck" : ""}">${esc(eventText(e))}</li>`).join("") || `<li>${esc(t("c_no_history"))}</li>`}</ol>${actions}</li>`;
  });
  const visits = data.visits.map((v) => `<li class="${v.voided_at ? "struck" : ""}" id="visit-${esc(v.id)}">${esc(showTime(v.visited_at))}: ${esc(t(`o_${v.outcome}`))}${v.voided_at ? ` ${esc(t("c_voided"))} — ${esc(v.void_reason || "")}` : ""}
${v.voided_at ? "" : button("c-void", t("c_void"), { cls: "text no-print", arg: v.id, id: `c-void-${v.id}` })}</li>`);
  return `${nav(h.address)}<p>${esc(t("c_head_name"))}: <strong id="c-head-name">${esc(h.head_name)}</strong> · ${esc(t("c_phone"))}: <span id="c-phone">${esc(h.phone || "—")}</span> · ${esc(t("c_code"))}: ${esc(h.code || "—")}</p>
${button("c-edit-household", t("c_edit_household"), { id: "c-edit-household" })}
<h2>${esc(t("c_members"))}</h2><ul class="list">${members.join("")}</ul>
<h2>${esc(t("c_visits"))}</h2><ul class="list" id="c-visits">${visits.join("") || `<li>${esc(t("c_no_visits"))}</li>`}</ul>`;
}

/**
 * One field of an edit form. It shows what the head changed, else the server's value; after
 * a stale save, a changed field also shows what the server holds now.
 */
function editField(name, label, server, type) {
  const changed = con.changes && Object.prototype.hasOwnProperty.call(con.changes, name);
  const value = changed ? con.changes[name] : server[name];
  const now = con.stale && changed && String(server[name] ?? "") !== String(value ?? "")
    ? `<p class="pending" id="c-now-${name}">${esc(t("c_now_on_server", { v: server[name] ?? "—" }))}</p>` : "";
  return `<label for="c-${name}">${esc(t(label))}</label><input id="c-${name}" name="${name}"${type ? ` type="${type}"` : ""} value="${esc(value ?? "")}">${now}`;
}
function staleNote() { return con.stale ? `<p class="error" id="c-stale" role="alert">${esc(t("c_stale"))}</p>` : ""; }
function householdEdit() {
  const h = con.loaded.household;
  return `${nav(t("c_edit_household"))}${staleNote()}<form data-form="c-household">
${editField("address", "c_address", h)}${editField("head_name", "c_head_name", h)}${editField("phone", "c_phone", h, "tel")}${editField("code", "c_code", h)}
<p id="form-error" class="error" role="alert"></p><button class="primary" type="submit" id="c-save">${esc(t("c_save"))}</button></form>${button("c-back", t("c_cancel"), { cls: "text", id: "c-cancel" })}`;
}
async function saveHouseholdEdit(form) {
  const f = new FormData(form);
  const typed = { address: f.get("address").trim(), head_name: f.get("head_name").trim(), phone: f.get("phone").trim() || null, code: f.get("code").trim() || null };
  await saveEdit(`/api/v1/households/${con.household}`, typed, con.loaded.household, "c-household-edit");
}
/**
 * A PATCH of only the fields the head changed (against the record the form shows), with the
 * ETag that record came with — so a save never writes back someone else's newer value of a
 * field the head did not touch. A 412 means someone saved in between: the record is read
 * again (new ETag), the head's changes stay in the form, the server's current value shows
 * under each of them, and untouched fields take the server's values; a second Save applies
 * the head's changes knowingly.
 */
async function saveEdit(path, typed, server, screen) {
  const changes = {};
  for (const [name, value] of Object.entries(typed)) {
    if (String(value ?? "") !== String(server[name] ?? "")) changes[name] = value;
  }
  if (!Object.keys(changes).length) {
    // After a 412 the head's changes may now equal the server's values: say so, never silently.
    if (con.stale) con.notice = t("c_same_now");
    con.stale = null; con.changes = null; ui.screen = "c-household"; return render();
  }
  const session = con;
  const answer = await cSend("PATCH", path, changes, { "If-Match": con.etag });
  if (con !== session) return;
  if (answer.ok) {
    con.stale = null; con.changes = null; con.notice = t("c_saved");
    ui.screen = "c-household"; return render();
  }
  if (answer.status === 412) {
    let fresh;
    try { fresh = await cGet(path); } catch (e) {
      if (!(e instanceof ConsoleRefused)) throw e;
      con.stale = null; con.changes = null; con.notice = t("c_gone"); ui.screen = "c-households"; return render();
    }
    if (con !== session) return;
    con.etag = fresh.etag;
    if (screen === "c-household-edit") con.loaded.household = fresh.body; else con.resident = fresh.body;
    con.stale = true; con.changes = changes;
    ui.screen = screen; return render();
  }
  if (answer.status === 404) { con.notice = t("c_gone"); ui.screen = "c-households"; return render(); }
  showFormError(fieldProblems(answer.problem));
}
function residentById(id) { return con.loaded.residents.find((r) => r.id === id); }
function residentEdit() {
  const r = con.resident;
  const shown = Object.assign({}, r, con.changes || {});
  const presence = ["present", "moved_away", "deceased"].map((p) => `<option value="${p}"${shown.presence === p ? " selected" : ""}>${esc(t(`p_${p}`))}</option>`).join("");
  return `${nav(t("c_edit_person"))}${staleNote()}<form data-form="c-resident">
${editField("full_name", "c_name", r)}${editField("birth_date", "c_born", r)}
<label for="c-presence">${esc(t("c_presence"))}</label><select id="c-presence" name="presence">${presence}</select>
${editField("presence_since", "c_since", r, "date")}
<p id="form-error" class="error" role="alert"></p><button class="primary" type="submit" id="c-save">${esc(t("c_save"))}</button></form>${button("c-back", t("c_cancel"), { cls: "text", id: "c-cancel" })}`;
}
async function saveResidentEdit(form) {
  const f = new FormData(form);
  const typed = { full_name: f.get("full_name").trim(), birth_date: f.get("birth_date").trim(), presence: f.get("presence"), presence_since: f.get("presence_since") || null };
  if (typed.presence === "present") typed.presence_since = null;
  await saveEdit(`/api/v1/residents/${con.resident.id}`, typed, con.resident, "c-resident-edit");
}
function eidCorrection() {
  const r = con.resident;
  const levels = ["none", "level1", "level2_pending", "level2"].map((l) => `<option value="${l}"${r.eid_level === l ? " selected" : ""}>${esc(t(`e_${l}`))}</option>`).join("");
  return `${nav(`${t("c_fix_eid")}: ${r.full_name || "—"}`)}<form data-form="c-eid">
<label for="c-level">${esc(t("c_eid_level"))}</label><select id="c-level" name="value">${levels}</select>
<label for="c-effective">${esc(t("c_since"))}</label><input id="c-effective" name="effective_on" type="date" max="${today()}" value="${today()}" required>
<p class="muted">${esc(t("c_eid_note"))}</p>
<p id="form-error" class="error" role="alert"></p><button class="primary" type="submit" id="c-save">${esc(t("c_save"))}</button></form>${button("c-back", t("c_cancel"), { cls: "text", id: "c-cancel" })}`;
}
async function saveEidCorrection(form) {
  const f = new FormData(form);
  const answer = await cSend("POST", "/api/v1/status-events", {
    household_id: con.household,
    events: [{ kind: "eid", resident_id: con.resident.id, value: f.get("value"), effective_on: f.get("effective_on"), correction: true }],
  });
  if (!answer.ok) return showFormError(fieldProblems(answer.problem));
  con.notice = t("c_saved"); ui.screen = "c-household"; render();
}
function eraseScreen() {
  const r = con.resident;
  return `${nav(t("c_erase"))}<p class="card warn" id="c-erase-text">${esc(t("c_erase_what", { n: r.full_name || "—" }))}</p>
<p id="form-error" class="error" role="alert"></p>${button("c-erase-confirm", t("c_erase_confirm"), { cls: "primary danger", id: "c-erase-confirm" })}${button("c-back", t("c_cancel"), { cls: "text", id: "c-cancel" })}`;
}
function voidVisitScreen() {
  return `${nav(t("c_void"))}<form data-form="c-void"><label for="c-reason">${esc(t("c_reason"))}</label><textarea id="c-reason" name="reason" maxlength="500" required></textarea>
<p id="form-error" class="error" role="alert"></p><button class="primary danger" type="submit" id="c-save">${esc(t("c_void"))}</button></form>${button("c-back", t("c_cancel"), { cls: "text", id: "c-cancel" })}`;
}
async function saveVisitVoid(form) {
  const reason = new FormData(form).get("reason").trim();
  const answer = await cSend("POST", `/api/v1/visits/${con.voiding}/void`, { reason });
  if (!answer.ok) return showFormError(fieldProblems(answer.problem));
  con.notice = t("c_saved"); ui.screen = "c-household"; render();
}

// ---------------------------------------------------------------- queues
function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "✓" : "✗";
  return String(value);
}
/** Every page of a queue (a page may be empty and still have a next one). */
async function allPages(path, params) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    const { body } = await cGet(`${path}${query(Object.assign({}, params, { cursor }))}`);
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return items;
}
async function conflictsScreen() {
  const open = await allPages("/api/v1/conflicts", { status: "open", limit: 500 });
  const items = open.map((c) => `<li class="card" id="conflict-${esc(c.id)}"><strong>${esc(t("c_conflict_field", { e: c.entity === "household" ? t("c_households") : t("c_people"), f: t(FIELD_LABEL[c.field] || c.field) }))}</strong>
<div class="pair"><div><h3>${esc(t("c_kept"))}</h3><p class="value" id="kept-${esc(c.id)}">${esc(shown(c.kept))}</p></div><div><h3>${esc(t("c_entered"))}</h3><p class="value" id="entered-${esc(c.id)}">${esc(shown(c.entered))}</p></div></div>
<p class="muted">${esc(t("c_by", { t: showTime(c.created_at) }))}</p>
<div class="row">${button("c-resolve", t("c_keep_server"), { arg: `${c.id}:keep_server`, id: `keep-${c.id}` })}${button("c-resolve", t("c_take_phone"), { arg: `${c.id}:take_phone`, id: `take-${c.id}` })}${c.household_id ? button("c-open", t("c_open_household"), { cls: "text", arg: c.household_id }) : ""}</div></li>`);
  return `${nav(t("c_conflicts"))}<ul class="list" id="conflicts">${items.join("") || `<li id="c-empty">${esc(t("c_no_conflicts"))}</li>`}</ul>`;
}
function personCard(r, label) {
  return `<div><h3>${esc(label)}</h3><p class="value"><strong>${esc(r.full_name || "—")}</strong><br>${esc(t("c_born"))}: ${esc(birthText(r))}<br>${esc(t("c_eid"))}: ${esc(t(`e_${r.eid_level}`))}<br>${esc(t("signature"))}: ${esc(signatureText(r))}${r.citizen_id_last4 ? `<br>CCCD …${esc(r.citizen_id_last4)}` : ""}</p></div>`;
}
async function duplicatesScreen() {
  const pairs = await allPages("/api/v1/duplicates", { limit: 500 });
  const items = pairs.filter((d) => d.status === "open").map((d) => {
    const [a, b] = d.residents;
    return `<li class="card" id="duplicate-${esc(d.id)}"><strong>${esc(t(`c_reason_${d.reason}`))}</strong><div class="pair">${personCard(a, t("c_left"))}${personCard(b, t("c_right"))}</div>
<div class="row">${button("c-merge", t("c_keep_left"), { arg: `${d.id}:${a.id}`, id: `merge-a-${d.id}` })}${button("c-merge", t("c_keep_right"), { arg: `${d.id}:${b.id}`, id: `merge-b-${d.id}` })}${button("c-dismiss", t("c_not_same"), { arg: d.id, id: `dismiss-${d.id}` })}</div></li>`;
  });
  return `${nav(t("c_duplicates"))}<ul class="list" id="duplicates">${items.join("") || `<li id="c-empty">${esc(t("c_no_duplicates"))}</li>`}</ul>`;
}

// Data subjects' requests still open, with the legal deadlines the server computed: the
// most urgent first, overdue ones marked.
async function requestsScreen() {
  const open = await allPages("/api/v1/data-requests", { status: "open", limit: 500 });
  // Urgency: the nearer of the two deadlines still open (acknowledging, carrying out), in
  // days from today, both read from the server's own figures.
  const urgency = (r) => r.acknowledged_on ? r.days_left
    : Math.min(r.days_left, r.days_left - (Date.parse(r.due_on) - Date.parse(r.acknowledge_by)) / 86400000);
  open.sort((a, b) => urgency(a) - urgency(b));
  const overdue = open.filter((r) => r.overdue).length;
  const items = open.map((r) => `<li class="card${r.overdue ? " late" : ""}" id="request-${esc(r.id)}" data-days-left="${esc(r.days_left)}"><strong>${esc(t(`r_${r.kind}`))}</strong>
<p>${esc(t("c_received", { d: showDate(r.received_on) }))} · ${esc(t("c_due", { d: showDate(r.due_on) }))} · <span class="${r.overdue ? "error" : ""}">${esc(r.overdue ? t("c_overdue", { n: -r.days_left }) : t("c_days_left", { n: r.days_left }))}</span></p>
<p class="${r.acknowledgement_late && !r.acknowledged_on ? "error" : "muted"}">${esc(r.acknowledged_on ? t("c_acked", { d: showDate(r.acknowledged_on) }) : t("c_ack_by", { d: showDate(r.acknowledge_by) }))} · ${esc(r.basis)}${r.deadline_verified ? "" : ` · ${esc(t("c_unverified"))}`}</p>
${r.acknowledged_on ? "" : button("c-acknowledge", t("c_acknowledge"), { arg: r.id, id: `ack-${r.id}` })}</li>`);
  return `${nav(t("c_requests"))}${overdue ? `<p class="error" id="c-overdue">${esc(t("c_overdue_count", { n: overdue }))}</p>` : ""}
<ul class="list" id="requests">${items.join("") || `<li id="c-empty">${esc(t("c_no_requests"))}</li>`}</ul>`;
}

// ---------------------------------------------------------------- import
function importScreen() {
  const r = con.importReport;
  let report = "";
  if (r) {
    const summary = `<p id="c-import-summary">${esc(t("c_report", { r: r.rows, hc: r.households_created, hm: r.households_matched, pc: r.residents_created, pm: r.residents_matched }))}</p>`;
    const problems = r.problems.length
      ? `<p class="error">${esc(t("c_row_problems", { n: r.problems.length }))}</p><div class="scroll"><table class="table" id="c-import-problems"><thead><tr><th>${esc(t("c_row"))}</th><th>${esc(t("c_column"))}</th><th>${esc(t("c_problem"))}</th></tr></thead><tbody>${r.problems.map((p) => `<tr><td>${p.row}</td><td>${esc(p.column || "")}</td><td>${esc(lang === "en" ? p.message_en : p.message_vi)}</td></tr>`).join("")}</tbody></table></div>`
      : r.dry_run ? `<p class="ok" id="c-import-ok">${esc(t("c_checked_ok"))}</p>${button("c-import-run", t("c_do_import", { n: r.rows }), { cls: "primary", id: "c-import-run" })}` : `<p class="ok" id="c-imported">${esc(t("c_imported"))}</p>`;
    report = summary + problems;
  }
  return `${nav(t("c_import"))}${button("c-template", t("c_template"), { cls: "text", id: "c-template" })}
<form data-form="c-import"><label for="c-file">${esc(t("c_file"))}</label><input id="c-file" name="file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet">
<p id="form-error" class="error" role="alert"></p><button class="primary" type="submit" id="c-dry-run">${esc(t("c_dry_run"))}</button></form>${report}`;
}
async function checkImport(form) {
  const file = form.querySelector("#c-file").files[0];
  if (!file) return showFormError(t("c_choose_file"));
  const xlsx = /\.xlsx$/i.test(file.name);
  con.importFile = { bytes: await file.arrayBuffer(), type: xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv" };
  // One key for the import of this file: a second click replays, never imports twice.
  con.importKey = uuidv7();
  await runImport(true);
}
/** The same bytes for the dry run and the import: what was checked is what is written. */
async function runImport(dryRun) {
  const area = consoleArea(await getMeta("user"));
  if (!area) { con.notice = t("c_area_first"); return render(); }
  const key = dryRun ? uuidv7() : con.importKey;
  const response = await api("POST", `/api/v1/imports/households${query({ area_id: area.id, dry_run: String(dryRun) })}`,
    { body: con.importFile.bytes, headers: { "Content-Type": con.importFile.type, "Idempotency-Key": key } });
  const answer = await response.json().catch(() => ({}));
  if (response.ok || (answer && answer.problems)) { con.importReport = answer; con.notice = ""; }
  else { con.importReport = null; con.notice = problemText(answer); }
  render();
}

// ---------------------------------------------------------------- volunteers
async function volunteersScreen(me) {
  const { body } = await cGet(`/api/v1/volunteers/activity${query({ inactive_days: con.inactiveDays, limit: 500 })}`);
  const area = consoleArea(me);
  const mine = area && area.kind === "neighbourhood" ? area : null;
  const items = body.items.map((a) => {
    const v = a.volunteer;
    const assigned = mine && v.assignments.some((x) => x.id === mine.id);
    const devices = a.devices.map((d) => `<li>${esc(t("c_device", { id: d.device_id.slice(-6), v: d.app_version || "?", p: when(d.last_push_at), l: when(d.last_pull_at) }))}${d.queued_items ? ` · <span class="warn">${esc(t("c_queued", { n: d.queued_items }))}</span>` : ""}</li>`).join("") || `<li>${esc(t("c_no_device"))}</li>`;
    const assign = mine ? (assigned ? button("c-unassign", t("c_unassign", { a: mine.name }), { arg: v.id, id: `unassign-${v.id}` }) : button("c-assign", t("c_assign", { a: mine.name }), { arg: v.id, id: `assign-${v.id}` })) : "";
    const confirm = con.confirm === v.id
      ? `<p class="warn" id="c-disable-text">${esc(t("c_disable_confirm", { n: v.name }))}</p>${button("c-disable-confirm", t("c_disable"), { cls: "danger", arg: v.id, id: `disable-confirm-${v.id}` })}`
      : button("c-disable", t("c_disable"), { cls: "danger", arg: v.id, id: `disable-${v.id}` });
    return `<li class="card${a.inactive ? " flagged" : ""}" id="volunteer-${esc(v.id)}"><strong>${esc(v.name)}</strong> ${a.inactive ? `<span class="badge warn">${esc(t("c_inactive"))}</span>` : ""}<br>
<span class="muted">${esc(v.phone ? groupedPhone(v.phone) : v.email || "")}</span><br>${esc(t("c_last_sync", { t: when(a.last_sync_at) }))}<br>
${esc(t("c_week", { a: a.records_this_week, r: a.rejected_this_week }))}${a.queued_items ? ` · <span class="warn">${esc(t("c_queued", { n: a.queued_items }))}</span>` : ""}
<ul class="devices">${devices}</ul><div class="row">${assign}${confirm}</div></li>`;
  });
  let invitation = "";
  if (con.invitation) {
    const i = con.invitation;
    invitation = i.qr_svg
      ? `<div class="card" id="c-qr"><h3>${esc(t("c_qr_title", { n: i.name }))}</h3><img alt="QR" id="c-qr-image" src="data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(i.qr_svg)))}"><p class="link" id="c-link">${esc(i.link)}</p><p>${esc(t("c_qr_once", { t: showTime(i.expires_at) }))}</p></div>`
      : `<p class="card ok" id="c-invited">${esc(t("c_invite_sent", { e: i.email }))}</p>`;
  }
  return `${nav(t("c_volunteers"))}<form data-form="c-inactive" class="row no-print"><label for="c-days" class="grow">${esc(t("c_inactive_days"))}<input id="c-days" name="days" type="number" min="1" max="365" value="${con.inactiveDays}"></label><button type="submit" id="c-days-show">${esc(t("c_show"))}</button></form>
<ul class="list" id="volunteers">${items.join("") || `<li>${esc(t("c_volunteers_none"))}</li>`}</ul>
<h2>${esc(t("c_invite"))}</h2>${invitation}<p class="muted">${esc(t("c_invite_hint"))}</p><form data-form="c-invite">
<label for="c-inv-name">${esc(t("c_name"))}</label><input id="c-inv-name" name="name" required maxlength="200">
<label for="c-inv-phone">${esc(t("c_phone"))}</label><input id="c-inv-phone" name="phone" type="tel" inputmode="tel">
<label for="c-inv-email">${esc(t("c_email"))}</label><input id="c-inv-email" name="email" type="email">
<p id="form-error" class="error" role="alert"></p><button class="primary" type="submit" id="c-invite">${esc(t("c_send_invite"))}</button></form>`;
}
async function invite(form) {
  const f = new FormData(form);
  const body = { name: f.get("name").trim(), role: "volunteer", language: lang };
  if (f.get("email").trim()) body.email = f.get("email").trim();
  if (f.get("phone").trim()) body.phone = f.get("phone").trim();
  const answer = await cSend("POST", "/api/v1/invitations", body);
  if (!answer.ok) return showFormError(fieldProblems(answer.problem));
  con.invitation = Object.assign({ name: body.name, email: body.email }, answer.body);
  render();
}

// ---------------------------------------------------------------- activation day
async function activationScreen(me) {
  // Read (and audited as an export) once per visit of the screen, not on every redraw.
  if (!con.activationList) {
    const area = consoleArea(me);
    con.activationList = (await cGet(`/api/v1/households/activation-list${query({ area_id: area && area.id })}`)).body;
  }
  const body = con.activationList;
  const a = con.activation;
  const date = a.date ? showDate(a.date) : "……";
  const place = a.place || t("c_act_place_default");
  const needs = (p) => [p.needs_eid ? t("c_needs_eid") : "", p.needs_signature ? t("c_needs_sig") : ""].filter(Boolean).join("; ");
  const list = body.households.map((h) => `<tbody class="household-group"><tr><th colspan="4">${esc(h.code ? `${h.code} · ` : "")}${esc(h.address)} · ${esc(h.head_name)}${h.phone ? ` · ${esc(groupedPhone(h.phone))}` : ""}</th></tr>
${h.people.map((p) => `<tr><td>${esc(p.full_name || "—")}</td><td>${p.birth_year}</td><td>${esc(needs(p))}</td><td class="tick">☐ ${esc(t("c_called"))}</td></tr>`).join("")}</tbody>`).join("");
  const slips = body.households.map((h) => `<section class="slip"><h3>${esc(t("c_slip_title"))}</h3><p><strong>${esc(h.head_name)}</strong> · ${esc(h.address)}${h.code ? ` · ${esc(h.code)}` : ""}</p>
<p>${esc(t("c_slip_text", { p: place, d: date }))}</p><ul>${h.people.map((p) => `<li>${esc(p.full_name || "—")}: ${esc(needs(p))}</li>`).join("")}</ul><p>${esc(t("c_slip_bring"))}</p></section>`).join("");
  return `${nav(t("c_activation"))}<form data-form="c-activation" class="no-print"><label for="c-act-date">${esc(t("c_act_date"))}</label><input id="c-act-date" name="date" type="date" value="${esc(a.date)}">
<label for="c-act-place">${esc(t("c_act_place"))}</label><input id="c-act-place" name="place" value="${esc(a.place)}" placeholder="${esc(t("c_act_place_default"))}">
<button type="submit" id="c-act-apply">${esc(t("c_save"))}</button></form>
<div class="row no-print">${button("c-print", t("c_print"), { cls: "primary", id: "c-print" })}${button("c-activation-xlsx", t("c_xlsx"), { id: "c-activation-xlsx" })}</div>
<p id="c-act-summary">${esc(body.people ? t("c_act_summary", { p: body.people, h: body.households.length, d: showDate(body.generated_on) }) : t("c_no_one"))}</p>
<table class="table call-list" id="c-call-list"><thead><tr><th>${esc(t("c_name"))}</th><th>${esc(t("c_born"))}</th><th>${esc(t("c_needs"))}</th><th></th></tr></thead>${list}</table>
<div class="slips" id="c-slips">${slips}</div>`;
}

// ---------------------------------------------------------------- events
/** Returns true when the screen should be drawn again. */
async function consoleAction(action, arg, target) {
  const [first, second] = String(arg || "").split(":");
  if (!action.startsWith("c-")) return false;
  // One console request at a time: a double click neither imports twice nor skips a page.
  if (con.busy) return false;
  con.busy = true;
  // The button stays disabled until the screen is drawn again (a write is never sent twice).
  if (target && action !== "c-print") target.disabled = true;
  if (!["c-print", "c-disable"].includes(action)) con.notice = "";
  // A sign-out or wipe while a request waits replaces `con`: its answer is then dropped.
  const session = con;
  let redraw = false;
  try {
    redraw = await consoleStep(action, arg, first, second, session);
    return redraw;
  } catch (e) {
    if (e instanceof SignInEnded) { await signInEnded(); return true; }
    if (e instanceof Unreachable) { con.notice = t("c_need_signal"); return true; }
    if (e instanceof ConsoleRefused) { con.notice = problemText(e.problem); return true; }
    throw e;
  } finally {
    session.busy = false;
    if (target && !redraw) target.disabled = false;
    if (target && action !== "c-print") ui.lastActive = Date.now();
  }
}
async function consoleStep(action, arg, first, second, session) {
  {
    switch (action) {
      case "c-filter": { const s = con[first]; s.filter = second; s.cursors = [null]; return true; }
      case "c-page": {
        const s = con[first];
        // The cursor is used once: a second click before the next page shows does nothing.
        if (second === "next" && s.next) { s.cursors.push(s.next); s.next = null; }
        if (second === "prev" && s.cursors.length > 1) s.cursors.pop();
        return true;
      }
      case "c-open": con.household = arg; con.notice = ""; ui.screen = "c-household"; return true;
      case "c-back": con.stale = null; con.changes = null; ui.screen = "c-household"; return true;
      case "c-edit-household": {
        const fresh = await cGet(`/api/v1/households/${con.household}`);
        if (con !== session || !con.loaded) return false;
        con.loaded.household = fresh.body; con.etag = fresh.etag; con.stale = null; con.changes = null; ui.screen = "c-household-edit"; return true;
      }
      case "c-edit-resident": case "c-fix-eid": case "c-erase": {
        const fresh = await cGet(`/api/v1/residents/${arg}`);
        if (con !== session) return false;
        con.resident = fresh.body; con.etag = fresh.etag; con.stale = null; con.changes = null;
        ui.screen = { "c-edit-resident": "c-resident-edit", "c-fix-eid": "c-eid", "c-erase": "c-erase" }[action];
        return true;
      }
      case "c-erase-confirm": {
        const answer = await cSend("POST", `/api/v1/residents/${con.resident.id}/erase`);
        if (!answer.ok) { showFormError(fieldProblems(answer.problem)); return false; }
        con.notice = t("c_erased"); ui.screen = "c-household"; return true;
      }
      case "c-void": con.voiding = arg; ui.screen = "c-void"; return true;
      case "c-resolve": {
        const answer = await cSend("POST", `/api/v1/conflicts/${first}/resolve`, { resolution: second });
        con.notice = answer.ok ? t("c_saved") : fieldProblems(answer.problem);
        return true;
      }
      case "c-merge": {
        const answer = await cSend("POST", `/api/v1/duplicates/${first}/merge`, { survivor_id: second });
        con.notice = answer.ok ? t("c_saved") : fieldProblems(answer.problem);
        return true;
      }
      case "c-acknowledge": {
        const answer = await cSend("POST", `/api/v1/data-requests/${arg}/acknowledge`);
        con.notice = answer.ok ? t("c_saved") : fieldProblems(answer.problem);
        return true;
      }
      case "c-dismiss": {
        const answer = await cSend("POST", `/api/v1/duplicates/${arg}/dismiss`);
        con.notice = answer.ok ? t("c_saved") : fieldProblems(answer.problem);
        return true;
      }
      case "c-template": await download("/api/v1/imports/households/template", "mau-danh-sach-ho.csv"); return true;
      case "c-import-run": await runImport(false); return false;
      case "c-assign": case "c-unassign": {
        const area = consoleArea(await getMeta("user"));
        if (!area) { con.notice = t("c_area_first"); return true; }
        const answer = await cSend(action === "c-assign" ? "PUT" : "DELETE", `/api/v1/volunteers/${arg}/assignments/${area.id}`);
        con.notice = answer.ok ? t("c_saved") : fieldProblems(answer.problem);
        return true;
      }
      case "c-disable": con.confirm = arg; return true;
      case "c-disable-confirm": {
        const answer = await cSend("POST", `/api/v1/volunteers/${arg}/disable`);
        con.confirm = null;
        con.notice = answer.ok ? t("c_disabled") : fieldProblems(answer.problem);
        return true;
      }
      case "c-print": window.print(); return false;
      case "c-activation-xlsx": {
        const area = consoleArea(await getMeta("user"));
        await download(`/api/v1/households/activation-list${query({ area_id: area && area.id, format: "xlsx" })}`, "danh-sach-ngay-kich-hoat.xlsx");
        return true;
      }
      default: return false;
    }
  }
}
function consoleChange(el) {
  if (el.dataset.change === "c-sort") { con.people.sort = el.value; con.people.cursors = [null]; render(); }
  if (el.dataset.change === "c-area") {
    con.area = el.value || null;
    con.people.cursors = [null]; con.households.cursors = [null];
    render();
  }
}
const CONSOLE_FORMS = {
  "c-search": (form) => { const s = con[form.dataset.kind]; s.q = new FormData(form).get("q").trim(); s.cursors = [null]; render(); },
  "c-household": saveHouseholdEdit,
  "c-resident": saveResidentEdit,
  "c-eid": saveEidCorrection,
  "c-void": saveVisitVoid,
  "c-import": checkImport,
  "c-invite": invite,
  "c-inactive": (form) => { const n = Number(new FormData(form).get("days")); if (n >= 1 && n <= 365) con.inactiveDays = Math.round(n); render(); },
  "c-activation": (form) => { const f = new FormData(form); con.activation = { date: f.get("date"), place: f.get("place").trim() }; render(); },
};
