// The volunteers' app: the reference client of mobile-spec/ (README.md flows, sync.md
// algorithm, errors.md texts, screens.md, security.md), as a web app.
//
// Storage is IndexedDB, one database per installation: the server copy (households,
// residents, visits, events), the queue of the phone's own mutations, the batch in flight,
// results, "not saved", and meta (device id, next seq, cursor, …). Every user action is one
// IndexedDB transaction that appends a numbered mutation; every pulled page is applied with
// its cursor in one transaction. The access token lives in memory only; the refresh token
// is encrypted with a non-extractable AES key kept by the browser. Nothing goes to
// localStorage, and the service worker caches only the app's own files.
"use strict";

const APP_VERSION = "1.0.0";
const SHELL = "__VERSION__";
const ZONE = "Asia/Ho_Chi_Minh";
const BATCH_MAX = 200;
const BATCH_BYTES = 512 * 1024;
const PAGE_LIMIT = 500;
const LOCK_AFTER_MS = 5 * 60 * 1000;
const KEEP_DAYS = 30;

// ---------------------------------------------------------------- texts (vi first, en)
const TEXT = {
  app: ["Sổ tay Tổ công nghệ số", "Community digital team notebook"],
  signin: ["Đăng nhập", "Sign in"],
  login_id: ["Email hoặc số điện thoại", "E-mail or phone number"],
  password: ["Mật khẩu", "Password"],
  show: ["Hiện", "Show"],
  wrong_login: ["Email, số điện thoại hoặc mật khẩu không đúng", "Wrong e-mail, phone number or password"],
  too_many: ["Bạn đã thử quá nhiều lần. Hãy thử lại sau {n} phút.", "Too many attempts. Try again in {n} minutes."],
  need_signal: ["Cần có mạng để đăng nhập lần đầu", "You need a connection to sign in the first time"],
  not_volunteer: ["Tài khoản này không dùng được ứng dụng tình nguyện viên", "This account cannot use the volunteer app"],
  ended: ["Phiên đăng nhập đã hết. Hãy đăng nhập lại để gửi {n} thay đổi đang chờ.", "Your sign-in has ended. Sign in again to send the {n} changes waiting."],
  ended_plain: ["Phiên đăng nhập đã hết. Hãy đăng nhập lại để gửi dữ liệu.", "Your sign-in has ended. Sign in again to send your data."],
  other_account: ["Đăng nhập tài khoản khác", "Sign in with another account"],
  other_first: ["Máy này còn {n} thay đổi chưa gửi của tài khoản khác. Hãy đồng bộ hoặc đăng xuất tài khoản đó trước.", "This phone holds {n} unsent changes of another account. Sync or sign out of that account first."],
  too_many_unlocks: ["Nhập sai quá nhiều lần; dữ liệu trên máy đã được xoá. Hãy đăng nhập lại.", "Too many wrong attempts; the data on this phone was deleted. Sign in again."],
  other_warn: ["{n} thay đổi chưa gửi của tài khoản này sẽ bị xoá khỏi máy.", "The {n} unsent changes of this account will be deleted from this phone."],
  delete_continue: ["Xoá và tiếp tục", "Delete and continue"],
  cancel: ["Huỷ", "Cancel"],
  join_title: ["Chào mừng! Chọn mật khẩu", "Welcome! Choose a password"],
  join_intro: ["Mật khẩu có ít nhất 10 ký tự. Bạn sẽ đăng nhập bằng số điện thoại và mật khẩu này.", "At least 10 characters. You will sign in with your phone number and this password."],
  repeat: ["Nhập lại mật khẩu", "Repeat the password"],
  mismatch: ["Hai mật khẩu không giống nhau", "The two passwords differ"],
  join_button: ["Bắt đầu", "Start"],
  link_used: ["Liên kết này đã được dùng. Hãy đăng nhập bằng số điện thoại và mật khẩu.", "This link was already used. Sign in with your phone number and password."],
  link_expired: ["Liên kết đã hết hạn. Hãy nhờ trưởng khu phố tạo liên kết mới.", "This link has expired. Ask your head for a new one."],
  link_invalid: ["Liên kết không dùng được; hãy nhờ trưởng khu phố gửi lại.", "This link cannot be used; ask your head to send it again."],
  locked: ["Ứng dụng đã khoá", "The app is locked"],
  locked_intro: ["Nhập mật khẩu để mở dữ liệu của bà con.", "Enter your password to open people's data."],
  unlock: ["Mở khoá", "Unlock"],
  wrong_password: ["Mật khẩu không đúng", "Wrong password"],
  downloading: ["Đang tải dữ liệu khu phố…", "Downloading your neighbourhoods…"],
  downloading_again: ["Đang tải lại dữ liệu khu phố…", "Downloading your neighbourhoods again…"],
  page_n: ["trang {n}", "page {n}"],
  keep_connected: ["Hãy giữ điện thoại có mạng. Nếu mất mạng, ứng dụng sẽ tải tiếp từ chỗ đang dừng.", "Keep the phone connected. If the connection drops, the download goes on from where it stopped."],
  kept_changes: ["Các thay đổi chưa gửi vẫn được giữ", "Your unsent changes are kept"],
  search: ["Tìm tên, địa chỉ…", "Search names, addresses…"],
  f_no_eid: ["Chưa có VNeID", "Adults without e-ID"],
  f_not_visited: ["Chưa thăm 30 ngày", "Not visited for 30 days"],
  f_expiring: ["Chữ ký sắp hết hạn", "Signature expiring within 60 days"],
  f_all: ["Tất cả", "All"],
  n_no_eid: ["⚠ {n} người chưa có VNeID", "⚠ {n} adults without e-ID"],
  all_eid: ["✓ Đủ VNeID", "✓ All adults have e-ID"],
  never_visited: ["Chưa thăm", "Never visited"],
  visited_on: ["Thăm {d}", "Visited {d}"],
  n_expiring: ["{n} chữ ký số sắp hết hạn", "{n} digital signatures expiring soon"],
  waiting: ["⟳ Chờ gửi", "⟳ Waiting to send"],
  not_saved_badge: ["⚠ Chưa lưu được", "⚠ Not saved"],
  empty: ["Chưa có hộ nào. Bấm 'Thêm hộ' để bắt đầu.", "No households yet. Tap 'Add household' to start."],
  synced_at: ["Đã đồng bộ lúc {t}", "Last synced at {t}"],
  not_synced: ["Chưa đồng bộ", "Not synced yet"],
  n_households: ["{n} hộ", "{n} households"],
  add_household: ["+ Thêm hộ", "+ Add household"],
  sync_screen: ["Đồng bộ", "Sync"],
  settings: ["Cài đặt", "Settings"],
  back: ["← Quay lại", "← Back"],
  edit: ["Sửa", "Edit"],
  phone: ["Số điện thoại", "Phone"],
  code: ["Mã hộ", "Household code"],
  broadband: ["Cáp quang", "Fibre broadband"],
  yes: ["Có", "Yes"], no: ["Không", "No"], unknown: ["Chưa rõ", "Unknown"],
  residents: ["Người trong hộ", "Residents"],
  visits: ["Các lần thăm", "Visits"],
  add_person: ["+ Thêm người", "+ Add person"],
  record_visit: ["Ghi lần thăm", "Record visit"],
  void: ["Huỷ", "Void"],
  voided: ["đã huỷ", "voided"],
  under18: ["chưa đủ 18 tuổi", "under 18"],
  age: ["{n} tuổi", "{n} years"],
  about_age: ["khoảng {n} tuổi", "about {n}"],
  erased: ["Đã xoá thông tin theo yêu cầu", "Data erased on request"],
  moved_since: ["Đã chuyển đi (từ {d})", "Moved away (since {d})"],
  deceased_on: ["Đã mất ({d})", "Deceased ({d})"],
  neighbourhood: ["Khu phố", "Neighbourhood"],
  address: ["Địa chỉ *", "Address *"],
  head_name: ["Tên chủ hộ *", "Head's name *"],
  phone_optional: ["Số điện thoại (không bắt buộc)", "Phone (optional)"],
  code_optional: ["Mã hộ (nếu có)", "Household code (if any)"],
  save: ["Lưu", "Save"],
  saved_here: ["Đã lưu trên máy", "Saved on this phone"],
  save_failed: ["Chưa lưu được trên máy; hãy thử lại", "Could not save on this phone; try again"],
  need_address: ["Cần nhập địa chỉ", "Enter the address"],
  need_name: ["Cần nhập tên", "Enter the name"],
  bad_phone: ["Số điện thoại gồm 6–20 số", "A phone number has 6–20 digits"],
  code_taken: ["Mã hộ này đã có trong khu phố", "This code is already used in the neighbourhood"],
  maybe_exists: ["Hộ này có thể đã có: {h}. Vẫn thêm?", "This household may exist already: {h}. Add anyway?"],
  add_anyway: ["Vẫn thêm", "Add anyway"],
  add_household_title: ["Thêm hộ", "Add household"],
  edit_household_title: ["Sửa hộ", "Edit household"],
  add_person_title: ["Thêm người", "Add person"],
  edit_person_title: ["Sửa thông tin", "Edit details"],
  residence: ["Tình trạng cư trú", "Residence"],
  p_present: ["Đang ở", "Lives here"], p_moved_away: ["Đã chuyển đi", "Moved away"], p_deceased: ["Đã mất", "Deceased"],
  presence_since: ["Từ ngày (nếu đã chuyển đi hoặc đã mất)", "Since (if moved away or deceased)"],
  need_presence_since: ["Cần ngày chuyển đi hoặc ngày mất", "Enter the date of the move or of death"],
  reenter: ["Nhập lại nếu cần", "Re-enter if needed"],
  full_name: ["Họ và tên *", "Full name *"],
  birth: ["Ngày sinh * (ngày / tháng / năm; chỉ biết năm? để trống ngày, tháng)", "Birth date * (day / month / year; only the year? leave day, month out)"],
  birth_future: ["Ngày sinh không được ở tương lai", "The birth date cannot be in the future"],
  birth_early: ["Ngày sinh trước năm 1900", "The birth date is before 1900"],
  birth_bad: ["Ngày sinh không hợp lệ", "Not a real date"],
  sex: ["Giới tính", "Sex"],
  male: ["Nam", "Male"], female: ["Nữ", "Female"], unspecified: ["Không xác định", "Unspecified"],
  relation: ["Quan hệ với chủ hộ", "Relation to head"],
  rel_head: ["Chủ hộ", "Head"], rel_spouse: ["Vợ/chồng", "Spouse"], rel_child: ["Con", "Child"],
  rel_parent: ["Bố/mẹ", "Parent"], rel_grandchild: ["Cháu", "Grandchild"], rel_sibling: ["Anh/chị/em", "Sibling"], rel_other: ["Khác", "Other"],
  citizen_id: ["Số CCCD (12 số)", "Citizen ID (12 digits)"],
  citizen_bad: ["Số căn cước công dân gồm đúng 12 chữ số", "A citizen ID is exactly 12 digits"],
  consent: ["Người này đồng ý ghi nhận", "The person agrees to be recorded"],
  outcome: ["Kết quả", "Outcome"],
  o_helped: ["Đã hỗ trợ", "Helped"], o_already_done: ["Đã làm trước đó", "Already done"],
  o_not_home: ["Không có nhà", "Nobody home"], o_refused: ["Từ chối", "Refused"], o_moved_away: ["Đã chuyển đi", "Moved away"],
  notes: ["Ghi chú (không bắt buộc)", "Notes (optional)"],
  eid: ["VNeID", "e-ID"],
  e_none: ["Chưa có", "None"], e_level1: ["Mức 1", "Level 1"], e_level2_pending: ["Mức 2 chờ duyệt", "Level 2 pending"], e_level2: ["Mức 2", "Level 2"],
  signature: ["Chữ ký", "Signature"],
  s_none: ["Chưa có", "None"], s_electronic: ["Điện tử", "Electronic"], s_digital: ["Chữ ký số", "Digital"],
  since: ["Từ ngày", "Since"],
  expires: ["Chữ ký số – hết hạn", "Digital signature – expires"],
  need_expiry: ["Cần ngày hết hạn của chữ ký số", "Enter the certificate's expiry date"],
  date_future: ["Ngày không được ở tương lai", "The date cannot be in the future"],
  current: ["hiện: {v}", "now: {v}"],
  no_change: ["Không đổi", "No change"],
  save_visit: ["Lưu lần thăm", "Save visit"],
  void_title: ["Huỷ lần thăm {d}?", "Void the visit of {d}?"],
  r_wrong_household: ["Ghi nhầm hộ", "Wrong household"], r_wrong_outcome: ["Ghi nhầm kết quả", "Wrong outcome"],
  r_twice: ["Ghi trùng", "Recorded twice"], r_other: ["Lý do khác", "Other reason"],
  void_also: ["Các trạng thái ghi trong lần thăm này cũng bị huỷ.", "The statuses recorded at this visit are voided too."],
  void_confirm: ["Huỷ lần thăm", "Void visit"],
  sync_now: ["Đồng bộ ngay", "Sync now"],
  q_household: ["Hộ mới {name}", "New household {name}"],
  q_resident: ["Người mới {name}", "New person {name}"],
  q_visit: ["Lần thăm hộ {name} ({outcome})", "Visit to {name} ({outcome})"],
  q_void: ["Huỷ lần thăm hộ {name}", "Void of a visit to {name}"],
  q_update: ["Thay đổi của {name}", "Changes to {name}"],
  forgot: ["Quên mật khẩu?", "Forgot password?"],
  forgot_mail: ["Nếu email này có tài khoản, thư đặt lại mật khẩu đã được gửi tới đó.", "If this e-mail has an account, a reset e-mail is on its way."],
  forgot_phone: ["Hãy nhờ trưởng khu phố tạo cho bạn một liên kết đăng nhập mới.", "Ask your neighbourhood head for a new sign-in link."],
  devices: ["Thiết bị đã đăng nhập", "Signed-in devices"],
  this_device: ["Máy này", "This phone"],
  sign_out_device: ["Đăng xuất thiết bị này", "Sign this device out"],
  devices_offline: ["Cần có mạng để xem các thiết bị", "You need a connection to see your devices"],
  last_used: ["dùng lần cuối {d}", "last used {d}"],
  queue_n: ["Chờ gửi: {n}", "Waiting to send: {n}"],
  results: ["Kết quả gửi", "Results"],
  not_saved: ["Chưa lưu được", "Not saved"],
  dismiss: ["Bỏ qua", "Dismiss"],
  enter_again: ["Nhập lại", "Enter again"],
  r_applied_household: ["Đã lưu hộ {name}", "Household {name} saved"],
  r_applied_resident: ["Đã lưu {name}", "{name} saved"],
  r_applied_visit: ["Đã lưu lần thăm hộ {name} ({outcome})", "Visit to {name} saved ({outcome})"],
  r_applied_update: ["Đã lưu thay đổi của {name}", "Changes to {name} saved"],
  r_applied_void: ["Đã huỷ lần thăm hộ {name}", "Visit to {name} voided"],
  r_duplicate: ["Đã lưu trước đó", "Already saved earlier"],
  r_conflict: ["Người khác đã sửa {field} của {name}. Máy chủ giữ: {kept}. Bạn nhập: {entered}. Trưởng khu phố sẽ xem xét.", "Someone else changed {field} of {name}. The server kept: {kept}. You entered: {entered}. The head will review it."],
  r_conflict_rest: ["Các thay đổi khác đã được lưu.", "Your other changes were saved."],
  r_id_conflict: ["{name} đã có trên máy chủ với nội dung khác. Hãy xem lại danh sách sau khi đồng bộ.", "{name} already exists on the server with other content. Check the list after syncing."],
  r_rejected: ["Chưa lưu được {name}: {reason}", "{name} was not saved: {reason}"],
  r_unknown: ["Đã gửi, chưa rõ kết quả", "Sent, result unknown"],
  sync_running: ["Đang đồng bộ…", "Syncing…"],
  sync_done: ["Đã đồng bộ", "Synced"],
  sync_waiting: ["Chưa gửi được; sẽ thử lại sau {n} giây", "Not sent yet; retrying in {n} seconds"],
  sync_stopped: ["Ứng dụng gặp lỗi khi gửi; dữ liệu vẫn được giữ trên máy", "The app hit an error while sending; your data is kept on this phone"],
  update_required: ["Cần cập nhật ứng dụng. Hãy mở lại ứng dụng khi có mạng.", "Update required. Open the app again with a connection."],
  offline: ["Không có mạng – dữ liệu được lưu trên máy", "Offline – your work is saved on this phone"],
  insecure: ["Trang này đang mở qua http:// không bảo mật: ứng dụng không cài được và không mở được khi mất mạng. Hãy mở bằng địa chỉ https:// của phường.", "This page is open over plain http://: the app cannot be installed and will not open offline. Open the ward's https:// address instead."],
  clock_wrong: ["Giờ trên điện thoại đang sai. Hãy bật 'Ngày giờ tự động' trong Cài đặt.", "The phone's clock is wrong. Turn on 'Automatic date and time' in Settings."],
  language: ["Ngôn ngữ", "Language"],
  signout: ["Đăng xuất", "Sign out"],
  signout_warn: ["Còn {n} thay đổi chưa gửi. Nếu đăng xuất bây giờ, các thay đổi này sẽ mất.", "{n} changes are not sent yet. If you sign out now, they will be lost."],
  sync_first: ["Đồng bộ trước", "Sync first"],
  signout_anyway: ["Vẫn đăng xuất", "Sign out anyway"],
  version: ["Phiên bản {v}", "Version {v}"],
  discard: ["Bỏ các thay đổi chưa lưu?", "Discard unsaved changes?"],
  f_field_phone: ["Số điện thoại", "Phone"], f_field_address: ["Địa chỉ", "Address"], f_field_head_name: ["Tên chủ hộ", "Head's name"],
  f_field_code: ["Mã hộ", "Household code"], f_field_full_name: ["Họ và tên", "Full name"],
};
const FIELD_LABEL = { phone: "f_field_phone", address: "f_field_address", head_name: "f_field_head_name", code: "f_field_code", full_name: "f_field_full_name" };

let lang = "vi";
function t(key, params) {
  const entry = TEXT[key];
  let text = entry ? entry[lang === "en" ? 1 : 0] : key;
  for (const [name, value] of Object.entries(params || {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
let problemTitles = {};
function problemText(problem) {
  if (!problem) return "";
  if (problem.errors && problem.errors.length) return problem.errors.map((e) => e.detail).join("; ");
  const title = problemTitles[problem.code];
  return problem.detail || (title ? title[lang] : problem.code);
}

// ---------------------------------------------------------------- dates, ids, folding
/** Today in the ward's calendar (Vietnam), never the UTC date. */
function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}
function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
function showDate(day) {
  if (!day) return "";
  const [y, m, d] = day.slice(0, 10).split("-");
  return d ? `${d}/${m}/${y}` : m ? `${m}/${y}` : y;
}
function showTime(instant) {
  return new Intl.DateTimeFormat("vi-VN", { timeZone: ZONE, hour: "2-digit", minute: "2-digit" }).format(new Date(instant));
}
function showDayMonth(instant) {
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date(instant));
  return `${day.slice(8, 10)}/${day.slice(5, 7)}`;
}
/** The phone's clock as RFC 3339 with the Vietnamese offset. */
function nowInstant() {
  return new Date().toISOString();
}
function uuidv7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { bytes[i] = ms % 256; ms = Math.floor(ms / 256); }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
/** Search folding as the server does it: NFD, no combining marks, đ → d, lower case. */
function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
}
function ageOn(birth, day) {
  if (!birth) return null;
  const y = Number(birth.slice(0, 4));
  const md = birth.length >= 10 ? birth.slice(5, 10) : birth.length === 7 ? `${birth.slice(5, 7)}-15` : "07-01";
  const ty = Number(day.slice(0, 4));
  return ty - y - (day.slice(5, 10) < md ? 1 : 0);
}
function groupedPhone(phone) {
  const digits = String(phone || "").replace(/\D/g, "");
  return digits.length === 10 ? `${digits.slice(0, 4)} ${digits.slice(4, 7)} ${digits.slice(7)}` : phone || "";
}

// ---------------------------------------------------------------- IndexedDB
const STORES = ["meta", "households", "residents", "visits", "events", "queue", "results", "not_saved", "keys"];
const SERVER_COPY = ["households", "residents", "visits", "events"];
let database;
function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("eid-adoption-app", 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("meta");
      db.createObjectStore("keys");
      for (const name of ["households", "residents", "visits", "events"]) db.createObjectStore(name, { keyPath: "id" });
      db.createObjectStore("queue", { keyPath: "seq" });
      // Results outlive a renumbering (a new device id starts at 1 again): keyed by both.
      for (const name of ["results", "not_saved"]) db.createObjectStore(name, { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
function req(request) {
  return new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
}
/** One local transaction over `stores`: `work(tx)` issues its requests; resolves on commit. */
function transact(stores, work) {
  return new Promise((resolve, reject) => {
    const tx = database.transaction(stores, "readwrite");
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("aborted"));
    Promise.resolve(work(tx)).then((r) => { result = r; }, (e) => { try { tx.abort(); } catch (_) { /* already done */ } reject(e); });
  });
}
async function all(store) {
  return req(database.transaction(store).objectStore(store).getAll());
}
async function getMeta(key) {
  return req(database.transaction("meta").objectStore("meta").get(key));
}
async function setMeta(key, value) {
  return transact(["meta"], (tx) => { tx.objectStore("meta").put(value, key); });
}
async function wipe(stores) {
  await transact(stores, (tx) => { for (const s of stores) tx.objectStore(s).clear(); });
  // What the head's console holds in memory goes too (after the stores: the wipe never
  // depends on the console's script).
  if (typeof resetConsole === "function") resetConsole();
}

// ---------------------------------------------------------------- tokens
let access = null; // {token, expiresAt} — memory only
let refreshing = null;
async function storageKey() {
  let key = await req(database.transaction("keys").objectStore("keys").get("refresh"));
  if (!key) {
    key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    await transact(["keys"], (tx) => { tx.objectStore("keys").put(key, "refresh"); });
  }
  return key;
}
async function storeTokens(pair) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await storageKey(), new TextEncoder().encode(pair.refresh_token));
  // The new refresh token is stored before the new access token is used (sync.md).
  await setMeta("refresh", { iv, sealed });
  access = { token: pair.access_token, expiresAt: Date.now() + pair.expires_in * 1000 };
}
async function storedRefreshToken() {
  const stored = await getMeta("refresh");
  if (!stored) return null;
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: stored.iv }, await storageKey(), stored.sealed);
  return new TextDecoder().decode(plain);
}
class SignInEnded extends Error {}
class Unreachable extends Error {}
/** One refresh at a time; a sent refresh token is never sent again (it is deleted first). */
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const token = await storedRefreshToken();
      if (!token) throw new SignInEnded("no refresh token");
      if (!navigator.onLine) throw new Unreachable("offline");
      let response;
      try {
        response = await fetch("/api/v1/auth/refresh", { method: "POST", headers: baseHeaders({ "Content-Type": "application/json" }), body: JSON.stringify({ refresh_token: token }) });
      } catch (e) {
        // Kept: if the server never saw it, it still works; if only the answer was lost,
        // the next refresh is taken as reuse and she signs in again (sync.md) — the same
        // end as discarding it, without ending sign-ins that a dead network never sent.
        throw new Unreachable("refresh unanswered");
      }
      if (response.status >= 500 || response.status === 429) throw new Unreachable(`refresh ${response.status}`);
      if (!response.ok) { await setMeta("refresh", null); throw new SignInEnded((await problemOf(response)).code); }
      await storeTokens(await response.json());
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}
async function ensureAccess() {
  if (!access || access.expiresAt - Date.now() < 60000) await refresh();
}

// ---------------------------------------------------------------- HTTP
function baseHeaders(extra) {
  return Object.assign({ "Accept-Language": lang, "X-App-Version": APP_VERSION }, extra || {});
}
async function problemOf(response) {
  try { return await response.json(); } catch (_) { return { code: `http-${response.status}`, status: response.status }; }
}
function checkClock(response) {
  const served = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(served)) ui.clockWrong = Math.abs(served - Date.now()) > 120000;
}
/** An authenticated call: refresh before, and once after a 401 token-expired/invalid-token. */
async function api(method, path, { body, headers } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureAccess();
    } catch (e) {
      if (e instanceof Unreachable || e instanceof SignInEnded) throw e;
      throw new Unreachable(String(e));
    }
    const extra = Object.assign({ Authorization: `Bearer ${access.token}` }, headers || {});
    if (body !== undefined && !extra["Content-Type"]) extra["Content-Type"] = "application/json";
    if (path.startsWith("/api/v1/sync/push")) extra["X-Device-Time"] = nowInstant();
    let response;
    try {
      // A time-out is a network error (sync.md): 90 s for a push, 60 s for anything else.
      const timeout = AbortSignal.timeout(path.startsWith("/api/v1/sync/push") ? 90000 : 60000);
      response = await fetch(path, { method, headers: baseHeaders(extra), body, signal: timeout });
    } catch (e) {
      throw new Unreachable(String(e));
    }
    checkClock(response);
    if (response.status === 401) {
      const problem = await problemOf(response);
      if ((problem.code === "token-expired" || problem.code === "invalid-token") && attempt === 0) { access = null; continue; }
      throw new SignInEnded(problem.code);
    }
    return response;
  }
}

// ---------------------------------------------------------------- the local view
/** The server copy with the queue applied on top (sync.md, "Local storage"). */
async function localView() {
  const [households, residents, visits, events, queue, notSaved] = await Promise.all(
    ["households", "residents", "visits", "events", "queue", "not_saved"].map(all));
  const byId = (list) => new Map(list.map((r) => [r.id, Object.assign({}, r)]));
  const view = { households: byId(households), residents: byId(residents), visits: byId(visits), events: byId(events), waiting: new Set(), notSaved: new Set(), queue };
  for (const m of queue) {
    const table = { household: view.households, resident: view.residents, visit: view.visits }[m.entity];
    if (m.op === "create") {
      const record = Object.assign({ id: m.id, version: 1, pending: true }, m.data);
      if (m.entity === "resident") delete record.citizen_id;
      table.set(m.id, Object.assign(table.get(m.id) || {}, record));
      if (m.entity === "visit") for (const e of m.data.events || []) view.events.set(e.id, Object.assign({ household_id: m.data.household_id, visit_id: m.id, pending: true }, e));
    } else if (m.op === "update" && table.has(m.id)) {
      const data = Object.assign({}, m.data); delete data.citizen_id;
      Object.assign(table.get(m.id), data);
    } else if (m.op === "void" && view.visits.has(m.id)) {
      Object.assign(view.visits.get(m.id), { voided_at: m.created_at, void_reason: m.data.reason });
    }
    view.waiting.add(m.entity === "household" ? m.id : m.data.household_id || (view.residents.get(m.id) || view.visits.get(m.id) || {}).household_id);
  }
  for (const n of notSaved) if (n.household_id) view.notSaved.add(n.household_id);
  // Indexes, so that a list of 600 households does not scan every event per person.
  const group = (records, key, keep) => {
    const map = new Map();
    for (const r of records) if (!keep || keep(r)) { const k = r[key]; if (!map.has(k)) map.set(k, []); map.get(k).push(r); }
    return map;
  };
  view.residentsOf = group(view.residents.values(), "household_id");
  view.visitsOf = group(view.visits.values(), "household_id");
  view.localEventsOf = group(view.events.values(), "resident_id", (e) => e.pending || e.provisional);
  return view;
}
const EID_RANK = { none: 0, level2_pending: 1, level1: 2, level2: 3 };
/** A resident's badges: the server's figures, raised by queued events (the server's rules). */
function statusOf(view, resident) {
  let eid = resident.eid_level || "none";
  let signature = resident.signature || "none";
  let expires = resident.signature_expires_on || null;
  let latest = "";
  // Queued events, and pushed ones until the pull brings the server's figures.
  for (const e of view.localEventsOf.get(resident.id) || []) {
    const visit = view.visits.get(e.visit_id);
    if (visit && visit.voided_at) continue;
    if (e.kind === "eid" && EID_RANK[e.value] > EID_RANK[eid]) eid = e.value;
    if (e.kind === "signature" && e.effective_on >= latest) { latest = e.effective_on; signature = e.value; expires = e.expires_on || null; }
  }
  if (signature === "digital" && expires && expires < today()) signature = "expired";
  return { eid, signature, expires };
}
function isAdult(resident) {
  const age = ageOn(resident.birth_date, today());
  return age !== null && age >= 18 && (resident.presence || "present") === "present" && !resident.erased;
}
function householdSummary(view, household) {
  const residents = (view.residentsOf.get(household.id) || []).slice();
  const adults = residents.filter(isAdult);
  const noEid = adults.filter((r) => { const s = statusOf(view, r).eid; return s === "none" || s === "level2_pending"; }).length;
  const soon = addDays(today(), 60);
  const expiring = adults.filter((r) => { const s = statusOf(view, r); return s.signature === "digital" && s.expires && s.expires <= soon; }).length;
  const visits = (view.visitsOf.get(household.id) || []).filter((v) => !v.voided_at);
  const lastVisit = visits.map((v) => v.visited_at).sort().pop() || null;
  return { residents, adults, noEid, expiring, lastVisit };
}

// ---------------------------------------------------------------- the queue
/** Appends one mutation in one transaction (seq = next_seq, next_seq + 1), or merges an
 * edit into a waiting mutation of the same record that is not in flight. */
async function enqueue(op, entity, id, data, extra) {
  await transact(["meta", "queue"], async (tx) => {
    const meta = tx.objectStore("meta");
    const queue = tx.objectStore("queue");
    // A mutation that was ever in a batch is immutable: the server may hold it already.
    const sentThrough = (await req(meta.get("sent_through"))) || 0;
    if (op === "update") {
      const waiting = (await req(queue.getAll())).filter((m) => m.id === id && (m.op === "create" || m.op === "update") && m.seq > sentThrough);
      const target = waiting.pop();
      if (target) {
        target.data = Object.assign(target.data, data);
        target.before = Object.assign({}, (extra || {}).before, target.before);
        queue.put(target);
        return;
      }
    }
    const seq = (await req(meta.get("next_seq"))) || 1;
    queue.put(Object.assign({ seq, op, entity, id, data, created_at: nowInstant() }, extra || {}));
    meta.put(seq + 1, "next_seq");
  });
}

// ---------------------------------------------------------------- sync (sync.md)
const sync = { running: null, again: false, attempt: 0, timer: null, status: "", stopped: false };
function requestSync(reset) {
  if (reset) sync.attempt = 0;
  if (sync.running) { sync.again = true; return sync.running; }
  clearTimeout(sync.timer);
  sync.running = runSync().finally(() => {
    sync.running = null;
    if (sync.again) { sync.again = false; requestSync(); }
  });
  return sync.running;
}
function backoffMs(retryAfter) {
  const cap = Math.min(300, 2 * 2 ** sync.attempt) * 1000;
  sync.attempt++;
  return Math.max((retryAfter || 0) * 1000, cap / 2 + Math.random() * cap / 2);
}
async function runSync() {
  const me = await getMeta("user");
  // Administrators use the console only (online); nothing of theirs is kept on the phone.
  if (!me || me.role === "admin" || (await getMeta("revoked"))) return;
  sync.status = t("sync_running"); renderFromSync();
  try {
    await recover();
    await pushAll();
    await pullAll();
    sync.attempt = 0;
    sync.status = t("sync_done");
  } catch (e) {
    if (e instanceof SignInEnded) { await signInEnded(); return; }
    if (e instanceof Retry) {
      const wait = backoffMs(e.retryAfter);
      sync.status = t("sync_waiting", { n: Math.round(wait / 1000) });
      sync.timer = setTimeout(() => requestSync(), wait);
    } else if (e instanceof Stop) {
      sync.status = e.message; sync.stopped = true;
    } else {
      sync.status = t("sync_stopped");
      console.error("sync", e && e.name);
    }
  } finally {
    renderFromSync();
  }
}
class Retry extends Error { constructor(retryAfter) { super("retry"); this.retryAfter = retryAfter; } }
class Stop extends Error {}
async function callOrRetry(method, path, options) {
  try {
    return await api(method, path, options);
  } catch (e) {
    if (e instanceof Unreachable) throw new Retry();
    throw e;
  }
}

/** Start-up and crash recovery: ask the server what it took from this device. */
async function recover() {
  const device = await getMeta("device_id");
  const response = await callOrRetry("GET", `/api/v1/sync/state?device_id=${device}`);
  if (response.status >= 500 || response.status === 429) throw new Retry(Number(response.headers.get("Retry-After")));
  if (response.status === 426) throw new Stop(t("update_required"));
  if (response.status === 403) { await newDevice(); return; }
  if (!response.ok) throw new Stop(t("sync_stopped"));
  const state = await response.json();
  const nextSeq = (await getMeta("next_seq")) || 1;
  if (state.last_seq >= nextSeq) { await newDevice(); return; }
  // A batch in flight is resent as it is (same bytes, same key): if the server took it,
  // its stored answer comes back with the results; push drops seq <= last_seq then.
  if (await getMeta("in_flight")) return;
  await dropTaken(state.last_seq);
}
async function dropTaken(lastSeq) {
  await transact(["meta", "queue"], async (tx) => {
    const queue = tx.objectStore("queue");
    for (const m of await req(queue.getAll())) if (m.seq <= lastSeq) queue.delete(m.seq);
    const inFlight = await req(tx.objectStore("meta").get("in_flight"));
    if (inFlight && inFlight.last_seq <= lastSeq) tx.objectStore("meta").put(null, "in_flight");
  });
}
/** A new device id; every queued mutation renumbered 1, 2, 3… in the same order. */
async function newDevice() {
  await transact(["meta", "queue"], async (tx) => {
    const queue = tx.objectStore("queue");
    const mutations = (await req(queue.getAll())).sort((a, b) => a.seq - b.seq);
    const meta = tx.objectStore("meta");
    // What was ever sent stays immutable under its new number too.
    const sentThrough = (await req(meta.get("sent_through"))) || 0;
    const stillSent = mutations.filter((m) => m.seq <= sentThrough).length;
    queue.clear();
    mutations.forEach((m, i) => queue.put(Object.assign(m, { seq: i + 1 })));
    meta.put(uuidv7(), "device_id");
    meta.put(mutations.length + 1, "next_seq");
    meta.put(null, "in_flight");
    meta.put(stillSent, "sent_through");
  });
}
/** Builds and freezes the next batch from the queue's head: ≤ 200 mutations, ≤ 512 KiB,
 * edits rebased on the server copy's version when nobody else holds a competing value. */
async function freezeBatch() {
  return transact(["meta", "queue", "households", "residents"], async (tx) => {
    const meta = tx.objectStore("meta");
    const existing = await req(meta.get("in_flight"));
    if (existing) return existing;
    const queue = (await req(tx.objectStore("queue").getAll())).sort((a, b) => a.seq - b.seq);
    if (!queue.length) return null;
    const device_id = await req(meta.get("device_id"));
    const mutations = [];
    for (const m of queue) {
      if (mutations.length && m.seq !== mutations[mutations.length - 1].seq + 1) break;
      const sent = { seq: m.seq, op: m.op, entity: m.entity, id: m.id, data: m.data };
      if (m.op === "update") {
        let base = m.base_version;
        const server = await req(tx.objectStore(m.entity === "household" ? "households" : "residents").get(m.id));
        if (server && server.version > base && Object.entries(m.before || {}).every(([k, v]) => (server[k] ?? null) === (v ?? null))) base = server.version;
        sent.base_version = base;
      }
      const candidate = JSON.stringify({ device_id, mutations: mutations.concat([sent]) });
      if (mutations.length >= BATCH_MAX || new Blob([candidate]).size > BATCH_BYTES) break;
      mutations.push(sent);
    }
    const body = JSON.stringify({ device_id, mutations });
    const first = mutations[0].seq, last = mutations[mutations.length - 1].seq;
    const batch = { key: `${device_id}:${first}-${last}`, first_seq: first, last_seq: last, body };
    meta.put(batch, "in_flight");
    meta.put(Math.max(last, (await req(meta.get("sent_through"))) || 0), "sent_through");
    return batch;
  });
}
async function pushAll() {
  for (;;) {
    const batch = await freezeBatch();
    if (!batch) return;
    const response = await callOrRetry("POST", "/api/v1/sync/push", { body: batch.body, headers: { "Idempotency-Key": batch.key } });
    const status = response.status;
    if (status === 200) {
      sync.serverFailures = 0;
      sync.inProgressSince = 0;
      const answer = await response.json();
      await handlePushAnswer(batch, answer);
      await setMeta("last_push_at", nowInstant());
      // A gap whose expected mutation the phone no longer holds can only be mended by
      // renumbering under a new device id.
      const gap = answer.results.find((r) => r.problem && r.problem.code === "seq-gap");
      if (gap && gap.expected_seq && !(await req(database.transaction("queue").objectStore("queue").get(gap.expected_seq)))) await newDevice();
      continue;
    }
    const problem = await problemOf(response);
    if (status === 409) {
      // An attempt still running should end within seconds; after 2 minutes of 409s ask the
      // server what it took: if that moves the head, the next batch has a new key, if not,
      // renumber under a new device id (sync.md, "Batches").
      sync.inProgressSince = sync.inProgressSince || Date.now();
      if (Date.now() - sync.inProgressSince > 120000) {
        sync.inProgressSince = 0;
        const head = (await all("queue")).length;
        await setMeta("in_flight", null);
        await recover();
        if ((await all("queue")).length === head) await newDevice();
        continue;
      }
    } else {
      sync.inProgressSince = 0;
    }
    if (status === 409 || status === 429 || status >= 500) {
      // After 5 server failures in a row, halve the batch to isolate a mutation causing them.
      if (status >= 500 && (sync.serverFailures = (sync.serverFailures || 0) + 1) >= 5 && batch.last_seq > batch.first_seq) { await splitBatch(batch); sync.serverFailures = 0; continue; }
      throw new Retry(Number(response.headers.get("Retry-After")));
    }
    if (status === 413) { await splitBatch(batch); continue; }
    if (status === 426) { await setMeta("in_flight", null); throw new Stop(t("update_required")); }
    if (status === 403 && problem.code === "device-not-yours") { await newDevice(); continue; }
    if (status === 403) throw new Stop(t("not_volunteer"));
    // The key came with another body (a bug): renumber under a new device id, which is safe
    // (the server answers what it already holds as duplicates).
    if (status === 422 && problem.code === "idempotency-key-reused") { await newDevice(); continue; }
    throw new Stop(`${t("sync_stopped")} (${problem.code})`);
  }
}
/** After a 413 (or repeated 5xx): the batch's first half becomes the frozen batch. */
async function splitBatch(batch) {
  const body = JSON.parse(batch.body);
  const half = body.mutations.slice(0, Math.max(1, Math.floor(body.mutations.length / 2)));
  const first = half[0].seq, last = half[half.length - 1].seq;
  await setMeta("in_flight", { key: `${body.device_id}:${first}-${last}`, first_seq: first, last_seq: last, body: JSON.stringify({ device_id: body.device_id, mutations: half }) });
}
/** A 200 answer in one transaction: results, drop seq ≤ last_seq, clear in_flight,
 * provisional versions, "not saved". */
async function handlePushAnswer(batch, answer) {
  const sentBody = JSON.parse(batch.body);
  const device = sentBody.device_id;
  const sent = new Map(sentBody.mutations.map((m) => [m.seq, m]));
  const view = await localView();
  const meId = ((await getMeta("user")) || {}).id;
  await transact(["meta", "queue", "results", "not_saved", "households", "residents", "visits", "events"], async (tx) => {
    const queue = tx.objectStore("queue");
    const results = tx.objectStore("results");
    for (const result of answer.results) {
      const m = sent.get(result.seq);
      if (!m || (result.problem && result.problem.code === "seq-gap")) continue;
      const key = `${device}:${result.seq}`;
      if (await req(results.get(key)) && result.result === "duplicate") continue;
      const line = describe(view, m, result);
      results.put({ key, seq: result.seq, at: nowInstant(), result: result.result, text: line.text, lines: line.lines, household_id: line.household_id });
      const outcome = result.result === "duplicate" ? (result.original_result || "applied") : result.result;
      if (outcome === "rejected" || (result.problem && result.problem.code === "id-conflict")) {
        const data = Object.assign({}, m.data); delete data.citizen_id;
        tx.objectStore("not_saved").put({ key, seq: result.seq, at: nowInstant(), op: m.op, entity: m.entity, id: m.id, data, text: line.text, lines: line.lines, household_id: line.household_id });
      }
      if (outcome === "applied" && m.entity === "visit") {
        // Provisional until the pull brings the server's record under the same id.
        const visits = tx.objectStore("visits");
        if (m.op === "create") {
          visits.put(Object.assign({ id: m.id, volunteer_id: meId, voided_at: null }, m.data));
          for (const e of m.data.events || []) tx.objectStore("events").put(Object.assign({ household_id: m.data.household_id, visit_id: m.id, provisional: true }, e));
        } else if (m.op === "void") {
          const visit = await req(visits.get(m.id));
          if (visit) visits.put(Object.assign(visit, { voided_at: nowInstant(), void_reason: m.data.reason }));
        }
      }
      const fieldConflict = result.result === "conflict" && result.problem && result.problem.code === "field-conflict";
      const written = result.result === "applied" || fieldConflict;
      if (written && result.version && (m.entity === "household" || m.entity === "resident")) {
        // Provisional until the pull: what was written, the server's values where it kept them.
        const store = tx.objectStore(m.entity === "household" ? "households" : "residents");
        const record = await req(store.get(m.id));
        const applied = Object.assign({}, m.data); delete applied.citizen_id;
        for (const c of result.conflicts || []) Object.assign(applied, c.server_value);
        store.put(Object.assign(record || { id: m.id }, applied, { version: result.version }));
      }
    }
    for (const m of await req(queue.getAll())) if (m.seq <= answer.last_seq) queue.delete(m.seq);
    tx.objectStore("meta").put(null, "in_flight");
  });
}
function nameOf(view, m) {
  const household = view.households.get(m.entity === "household" ? m.id : m.data.household_id || (view.visits.get(m.id) || view.residents.get(m.id) || {}).household_id) || {};
  if (m.entity === "resident") return (view.residents.get(m.id) || m.data).full_name || "";
  return household.head_name || m.data.head_name || "";
}
function describe(view, m, result) {
  const name = nameOf(view, m);
  const household_id = m.entity === "household" ? m.id : m.data.household_id || (view.visits.get(m.id) || view.residents.get(m.id) || {}).household_id;
  const outcome = result.result === "duplicate" ? (result.original_result || "applied") : result.result;
  const problem = result.problem;
  if (result.result === "duplicate" && outcome === "applied") return { text: t("r_duplicate"), household_id };
  if (problem && problem.code === "id-conflict") return { text: t("r_id_conflict", { name }), household_id };
  if (outcome === "conflict") {
    const lines = (result.conflicts || []).map((c) => t("r_conflict", { field: t(FIELD_LABEL[c.field] || c.field), name, kept: c.kept ?? "—", entered: c.entered ?? "—" }));
    if (lines.length) lines.push(t("r_conflict_rest"));
    return { text: lines[0] || t("r_conflict", { field: "", name, kept: "", entered: "" }), lines: lines.slice(1), household_id };
  }
  if (outcome === "rejected") {
    const lines = ((problem && problem.errors) || []).slice(1).map((e) => e.detail);
    return { text: t("r_rejected", { name, reason: problemText(problem) }), lines, household_id };
  }
  const key = m.op === "void" ? "r_applied_void" : m.op === "update" ? "r_applied_update" : `r_applied_${m.entity}`;
  return { text: t(key, { name, outcome: t(`o_${m.data.outcome}`) }), household_id };
}

async function pullAll() {
  for (;;) {
    const cursor = await getMeta("cursor");
        // The device and its waiting changes go along, for the head's sync health view.
    const queued = (await all("queue")).length;
    const path = `/api/v1/sync/pull?limit=${PAGE_LIMIT}&device_id=${await getMeta("device_id")}&queued=${queued}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const response = await callOrRetry("GET", path);
    if (response.status === 410 || (response.status === 422 && (await response.clone().text()).includes("invalid-cursor"))) {
      // Keep the queue, in_flight, results and "not saved"; wipe only the server copy.
      await transact(SERVER_COPY.concat(["meta"]), (tx) => {
        for (const s of SERVER_COPY) tx.objectStore(s).clear();
        tx.objectStore("meta").put(null, "cursor");
        // The screens stay usable (queued items on top of what has arrived).
        tx.objectStore("meta").put(true, "downloading_again");
      });
      ui.page = 0;
      continue;
    }
    if (response.status === 429 || response.status >= 500) throw new Retry(Number(response.headers.get("Retry-After")));
    if (response.status === 426) throw new Stop(t("update_required"));
    if (!response.ok) throw new Stop(`${t("sync_stopped")} (${(await problemOf(response)).code})`);
    const page = await response.json();
    const again = await applyPage(page);
    ui.page = (ui.page || 0) + 1;
    if (again) await refreshMe();
    renderFromSync();
    if (!page.has_more) {
      await transact(["meta"], (tx) => {
        const meta = tx.objectStore("meta");
        meta.put(nowInstant(), "last_pull_at");
        meta.put(true, "downloaded");
        meta.put(false, "downloading_again");
      });
      ui.page = 0;
      return;
    }
  }
}
/** One page and its cursor in one transaction; a removed household takes its residents,
 * visits and events along; children that came before their household are kept. */
async function applyPage(page) {
  const me = await getMeta("user");
  const assigned = new Set(((me && me.assignments) || []).map((a) => a.id));
  let refreshNeeded = false;
  await transact(SERVER_COPY.concat(["meta"]), async (tx) => {
    const stores = { households: tx.objectStore("households"), residents: tx.objectStore("residents"), visits: tx.objectStore("visits"), status_events: tx.objectStore("events") };
    for (const [name, store] of Object.entries(stores)) {
      for (const record of page[name].upserted) store.put(record);
    }
    for (const [name, store] of Object.entries(stores)) {
      for (const removed of page[name].removed) {
        store.delete(removed.id);
        if (removed.reason === "unassigned") refreshNeeded = true;
        if (name === "households") {
          for (const child of ["residents", "visits", "status_events"]) {
            for (const record of await req(stores[child].getAll())) if (record.household_id === removed.id) stores[child].delete(record.id);
          }
        }
      }
    }
    for (const h of page.households.upserted) if (!assigned.has(h.area_id)) refreshNeeded = true;
    tx.objectStore("meta").put(page.cursor, "cursor");
  });
  return refreshNeeded;
}
async function refreshMe() {
  const response = await callOrRetry("GET", "/api/v1/me");
  if (response.ok) await setMeta("user", await response.json());
}

/** The sign-in is over (revoked, expired, refresh refused): stop syncing, take the
 * people's data the phone downloaded off it at once, keep the queue for the same user. */
async function signInEnded() {
  access = null;
  if (typeof resetConsole === "function") resetConsole();
  const leaving = SERVER_COPY.concat(["results", "not_saved"]);
  await transact(leaving.concat(["meta"]), (tx) => {
    for (const s of leaving) tx.objectStore(s).clear();
    const meta = tx.objectStore("meta");
    meta.put(null, "cursor");
    meta.put(false, "downloaded");
    meta.put(null, "refresh");
    meta.put(nowInstant(), "revoked");
  });
  ui.screen = "signin";
  render();
}

// ---------------------------------------------------------------- sign-in, join, lock
async function passwordCheck(password, salt) {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 210000 }, material, 256);
  return [...new Uint8Array(bits)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
async function afterSignIn(pair, password, given) {
  let login = given;
  if (typeof resetConsole === "function") resetConsole();
  access = { token: pair.access_token, expiresAt: Date.now() + pair.expires_in * 1000 };
  const meResponse = await api("GET", "/api/v1/me");
  const me = await meResponse.json();
  if (!["volunteer", "head", "admin"].includes(me.role)) {
    await fetch("/api/v1/auth/logout", { method: "POST", headers: baseHeaders({ "Content-Type": "application/json" }), body: JSON.stringify({ refresh_token: pair.refresh_token }) }).catch(() => {});
    access = null;
    throw new Error(t("not_volunteer"));
  }
  const previous = await getMeta("user");
  if (previous && previous.id !== me.id) {
    const waiting = (await all("queue")).length;
    if (waiting) {
      await fetch("/api/v1/auth/logout", { method: "POST", headers: baseHeaders({ "Content-Type": "application/json" }), body: JSON.stringify({ refresh_token: pair.refresh_token }) }).catch(() => {});
      access = null;
      throw new Error(t("other_first", { n: waiting }));
    }
    await wipe(STORES.filter((s) => s !== "keys"));
  }
  login = login || me.phone || me.email || "";
  await storeTokens(pair);
  // The app lock checks the password on the phone: a salted PBKDF2 digest, never the text.
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const lockHash = await passwordCheck(password, salt);
  await transact(["meta"], async (tx) => {
    const meta = tx.objectStore("meta");
    meta.put(me, "user");
    if (login) meta.put(login, "login");
    meta.put(null, "revoked");
    meta.put(0, "unlock_failures");
    meta.put({ salt, hash: lockHash }, "lock");
    if (!(await req(meta.get("device_id")))) { meta.put(uuidv7(), "device_id"); meta.put(1, "next_seq"); }
  });
  ui.unlocked = true;
  ui.lastActive = Date.now();
  ui.screen = "home";
  ui.area = null;
  requestSync(true);
}
async function signIn(form) {
  const login = form.login.value.trim();
  const password = form.password.value;
  const body = login.includes("@") ? { email: login, password } : { phone: login, password };
  let response;
  try {
    response = await fetch("/api/v1/auth/login", { method: "POST", headers: baseHeaders({ "Content-Type": "application/json" }), body: JSON.stringify(body) });
  } catch (e) {
    return showFormError(t("need_signal"));
  }
  if (response.status === 429) {
    const minutes = Math.max(1, Math.ceil(Number(response.headers.get("Retry-After") || 60) / 60));
    return showFormError(t("too_many", { n: minutes }));
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    return showFormError(problem.code === "invalid-credentials" ? t("wrong_login") : problemText(problem));
  }
  try {
    await afterSignIn(await response.json(), password, login);
  } catch (e) {
    return showFormError(e.message);
  }
  render();
}
async function join(form) {
  if (form.password.value !== form.repeat.value) return showFormError(t("mismatch"));
  let response;
  try {
    response = await fetch("/api/v1/invitations/accept", { method: "POST", headers: baseHeaders({ "Content-Type": "application/json" }), body: JSON.stringify({ token: ui.joinToken, password: form.password.value }) });
  } catch (e) {
    return showFormError(t("need_signal"));
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    const known = { "invitation-already-accepted": "link_used", "invitation-expired": "link_expired", "invalid-invitation-token": "link_invalid" };
    return showFormError(known[problem.code] ? t(known[problem.code]) : problemText(problem));
  }
  const pair = await response.json();
  history.replaceState(null, "", "/app/");
  ui.joinToken = null;
  try {
    await afterSignIn(pair, form.password.value, "");
  } catch (e) {
    return showFormError(e.message);
  }
  render();
}
async function unlock(form) {
  const lock = await getMeta("lock");
  if (!lock || (await passwordCheck(form.password.value, lock.salt)) !== lock.hash) {
    // Five wrong passwords in a row: the phone may be in someone else's hands (security.md).
    const failures = ((await getMeta("unlock_failures")) || 0) + 1;
    if (failures >= 5) {
      access = null;
      clearTimeout(sync.timer);
      if (sync.running) await sync.running.catch(() => {});
      await wipe(STORES);
      ui.screen = "signin";
      await render();
      return showFormError(t("too_many_unlocks"));
    }
    await setMeta("unlock_failures", failures);
    return showFormError(t("wrong_password"));
  }
  await setMeta("unlock_failures", 0);
  ui.unlocked = true;
  ui.lastActive = Date.now();
  ui.screen = "home";
  render();
  if (navigator.onLine) requestSync(true);
}
async function signOut(force) {
  const waiting = (await all("queue")).length;
  if (waiting && !force) { ui.confirmSignOut = waiting; render(); return; }
  try {
    const token = await storedRefreshToken();
    if (token) await fetch("/api/v1/auth/logout", { method: "POST", headers: baseHeaders({ "Content-Type": "application/json" }), body: JSON.stringify({ refresh_token: token }) });
  } catch (_) { /* offline: the sign-in expires on the server */ }
  access = null;
  await wipe(STORES);
  ui.screen = "signin"; ui.confirmSignOut = 0; ui.unlocked = false;
  render();
}
function showFormError(message) {
  const place = document.querySelector("#form-error");
  if (place) place.textContent = message;
}

// ---------------------------------------------------------------- screens
const ui = { screen: "loading", area: null, filter: "all", query: "", household: null, unlocked: false, lastActive: Date.now(), page: 0, clockWrong: false };
const screenEl = () => document.getElementById("screen");

async function render() {
  if (!database) return;
  renderBanners();
  const me = await getMeta("user");
  const revoked = await getMeta("revoked");
  if (ui.joinToken) return draw("join", joinScreen());
  if (!me || revoked || ui.screen === "signin") return draw("signin", await signinScreen(me, revoked));
  if (!ui.unlocked) return draw("lock", lockScreen());
  // The head's console (head.js) reads the server directly: heads and administrators only.
  if (me.role === "admin" && !ui.screen.startsWith("c-")) ui.screen = "c-home";
  if (ui.screen.startsWith("c-") && me.role !== "volunteer") return draw(ui.screen, await consoleScreen(ui.screen, me));
  if (!(await getMeta("downloaded"))) return draw("download", await downloadScreen(me));
  const view = await localView();
  const screens = { home: homeScreen, household: householdScreen, "household-form": householdForm, "resident-form": residentForm, visit: visitScreen, sync: syncScreen, settings: settingsScreen, void: voidScreen };
  const name = screens[ui.screen] ? ui.screen : "home";
  draw(name, await screens[name](view, me));
}
function draw(name, html) {
  ui.drawn = name;
  // The console's tables get a laptop's width; the volunteer's screens stay phone-narrow.
  document.body.classList.toggle("console", name.startsWith("c-"));
  screenEl().innerHTML = html;
}
/** What sync shows while it runs: never redrawn under a form being filled in. */
const FORMS = new Set(["join", "signin", "lock", "household-form", "resident-form", "visit", "void"]);
function renderFromSync() {
  if (ui.drawn && ui.drawn.startsWith("c-")) return renderBanners();
  if (FORMS.has(ui.drawn) && !(ui.drawn === "signin" && ui.screen === "signin")) return renderBanners();
  return render();
}
function renderBanners() {
  const banners = [];
  if (!window.isSecureContext) banners.push(`<p class="banner-insecure" id="insecure-banner">${esc(t("insecure"))}</p>`);
  if (!navigator.onLine) banners.push(`<p class="banner-offline" id="offline-banner">${esc(t("offline"))}</p>`);
  if (ui.clockWrong) banners.push(`<p class="banner-clock">${esc(t("clock_wrong"))}</p>`);
  document.getElementById("banners").innerHTML = banners.join("");
}
function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message; el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 2500);
}
function button(action, label, { cls = "", arg = "", pressed, id = "" } = {}) {
  const p = pressed === undefined ? "" : ` aria-pressed="${pressed}"`;
  return `<button type="button" class="${cls}" data-action="${action}" data-arg="${esc(arg)}"${p}${id ? ` id="${esc(id)}"` : ""}>${esc(label)}</button>`;
}
function langSwitch() {
  return button("lang", lang === "vi" ? "English" : "Tiếng Việt", { cls: "text", id: "lang" });
}

async function signinScreen(me, revoked) {
  const waiting = (await all("queue")).length;
  const login = (await getMeta("login")) || "";
  const ended = revoked && me ? `<p class="error" id="ended">${esc(waiting ? t("ended", { n: waiting }) : t("ended_plain"))}</p>` : "";
  const other = revoked && me ? (ui.confirmOther
    ? `<div class="card"><p>${esc(t("other_warn", { n: waiting }))}</p>${button("other-confirm", t("delete_continue"), { cls: "danger" })} ${button("other-cancel", t("cancel"))}</div>`
    : button("other", t("other_account"), { cls: "text" })) : "";
  return `<div class="spread"><h1>${esc(t("app"))}</h1>${langSwitch()}</div>${ended}
<form data-form="signin" novalidate>
<label for="login">${esc(t("login_id"))}</label>
<input id="login" name="login" autocomplete="username" inputmode="email" value="${esc(revoked ? login : "")}" ${revoked && me && login ? "readonly" : ""} required>
<label for="password">${esc(t("password"))}</label>
<div class="row"><input id="password" name="password" type="password" autocomplete="current-password" required class="grow">${button("show-password", t("show"))}</div>
<p id="form-error" class="error" role="alert"></p>
<button class="primary" type="submit" id="signin">${esc(t("signin"))}</button>
</form>${button("forgot", t("forgot"), { cls: "text", id: "forgot" })}${other}`;
}
function joinScreen() {
  return `<div class="spread"><h1>${esc(t("join_title"))}</h1>${langSwitch()}</div><p>${esc(t("join_intro"))}</p>
<form data-form="join" novalidate>
<label for="password">${esc(t("password"))}</label><input id="password" name="password" type="password" autocomplete="new-password" required>
<label for="repeat">${esc(t("repeat"))}</label><input id="repeat" name="repeat" type="password" autocomplete="new-password" required>
<p id="form-error" class="error" role="alert"></p>
<button class="primary" type="submit" id="join">${esc(t("join_button"))}</button></form>${button("leave-join", t("signin"), { cls: "text", id: "leave-join" })}`;
}
function lockScreen() {
  return `<h1>${esc(t("locked"))}</h1><p>${esc(t("locked_intro"))}</p>
<form data-form="unlock" novalidate><label for="password">${esc(t("password"))}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<p id="form-error" class="error" role="alert"></p>
<button class="primary" type="submit" id="unlock">${esc(t("unlock"))}</button></form>`;
}
async function downloadScreen(me) {
  const again = await getMeta("downloading_again");
  return `<h1>${esc(t(again ? "downloading_again" : "downloading"))}</h1>
<div class="progress" role="progressbar" aria-label="${esc(t("downloading"))}"><div></div></div>
<p id="download-page">${esc(t("page_n", { n: ui.page + 1 }))}</p>
<p>${esc(me.assignments.map((a) => a.name).join(" · "))}</p>
<p>${esc(t("keep_connected"))}</p>${again ? `<p>${esc(t("kept_changes"))}</p>` : ""}<p class="muted">${esc(sync.status)}</p>`;
}
function syncBadge(view) {
  return button("go", `⟳ ${view.queue.length}`, { arg: "sync", id: "sync-badge" });
}
async function homeScreen(view, me) {
  const areas = me.assignments;
  if (!ui.area || !areas.some((a) => a.id === ui.area)) ui.area = areas.length ? areas[0].id : null;
  const q = fold(ui.query);
  const soon30 = addDays(today(), -30);
  const rows = [];
  for (const h of view.households.values()) {
    if (h.area_id !== ui.area || !h.head_name) continue;
    const s = householdSummary(view, h);
    if (q) {
      const text = fold([h.head_name, h.address, h.code, ...s.residents.map((r) => r.full_name)].join(" "));
      if (!text.includes(q)) continue;
    }
    if (ui.filter === "no_eid" && !s.noEid) continue;
    if (ui.filter === "not_visited" && s.lastVisit && s.lastVisit.slice(0, 10) >= soon30) continue;
    if (ui.filter === "expiring" && !s.expiring) continue;
    rows.push({ h, s });
  }
  rows.sort((a, b) => (a.s.lastVisit ? 1 : 0) - (b.s.lastVisit ? 1 : 0) || String(a.h.address).localeCompare(String(b.h.address), "vi"));
  const items = rows.map(({ h, s }) => {
    const badges = [];
    if (s.adults.length) badges.push(s.noEid ? `<span class="badge warn">${esc(t("n_no_eid", { n: s.noEid }))}</span>` : `<span class="badge ok">${esc(t("all_eid"))}</span>`);
    badges.push(s.lastVisit ? esc(t("visited_on", { d: showDayMonth(s.lastVisit) })) : `<span class="badge warn">${esc(t("never_visited"))}</span>`);
    if (s.expiring) badges.push(`<span class="badge warn">${esc(t("n_expiring", { n: s.expiring }))}</span>`);
    if (view.waiting.has(h.id)) badges.push(`<span class="badge pending">${esc(t("waiting"))}</span>`);
    if (view.notSaved.has(h.id)) badges.push(`<span class="badge warn">${esc(t("not_saved_badge"))}</span>`);
    return `<li><button type="button" class="item household" data-action="open-household" data-arg="${esc(h.id)}"><strong>${esc(h.head_name)}</strong>${esc(h.address)}<br>${badges.join(" · ")}</button></li>`;
  });
  const filters = [["no_eid", "f_no_eid"], ["not_visited", "f_not_visited"], ["expiring", "f_expiring"], ["all", "f_all"]]
    .map(([f, label]) => button("filter", t(label), { arg: f, pressed: ui.filter === f, id: `filter-${f}` })).join("");
  const lastPull = await getMeta("last_pull_at");
  const areaChoice = areas.length > 1
    ? `<select id="area-choice" data-change="area" aria-label="${esc(t("neighbourhood"))}">${areas.map((a) => `<option value="${esc(a.id)}" ${a.id === ui.area ? "selected" : ""}>${esc(a.name)}</option>`).join("")}</select>`
    : `<h1>${esc((areas[0] || {}).name || "")}</h1>`;
  const count = [...view.households.values()].filter((h) => h.area_id === ui.area && h.head_name).length;
  return `<div class="spread">${areaChoice}<div class="row">${syncBadge(view)}${button("go", "≡", { arg: "settings", id: "settings" })}</div></div>
<label for="search" class="muted">${esc(t("search"))}</label><input id="search" type="search" data-input="query" value="${esc(ui.query)}" placeholder="${esc(t("search"))}">
<div class="choices">${filters}</div>
<ul class="list" id="households">${items.join("") || `<li><p id="empty">${esc(t("empty"))}</p></li>`}</ul>
${(await getMeta("downloading_again")) ? `<p class="pending">${esc(t("downloading_again"))} ${esc(t("kept_changes"))}</p>` : ""}
<p class="footer" id="footer">${esc(lastPull ? t("synced_at", { t: showTime(lastPull) }) : t("not_synced"))} · ${esc(t("n_households", { n: count }))} · <span class="muted">${esc(sync.status)}</span></p>
${button("new-household", t("add_household"), { cls: "primary", id: "add-household" })}
${me.role === "head" ? button("go", t("c_console"), { arg: "c-home", id: "open-console" }) : ""}`;
}
function eidLabel(value) { return t(`e_${value}`); }
function signatureLabel(s) {
  if (s.signature === "expired") return `${t("s_digital")} – ${lang === "vi" ? "hết hạn" : "expired"} ${showDate(s.expires)} ⚠`;
  if (s.signature === "digital") return `${t("s_digital")} (${lang === "vi" ? "hết hạn" : "expires"} ${showDate(s.expires)})`;
  return t(`s_${s.signature}`);
}
async function householdScreen(view) {
  const h = view.households.get(ui.household);
  if (!h) { ui.screen = "home"; return homeScreen(view, await getMeta("user")); }
  const me = await getMeta("user");
  const s = householdSummary(view, h);
  const residents = s.residents.sort((a, b) => ((a.presence || "present") === "present" ? 0 : 1) - ((b.presence || "present") === "present" ? 0 : 1));
  const people = residents.map((r) => {
    if (r.erased) return `<li><p class="muted">${esc(t("erased"))}</p></li>`;
    const age = ageOn(r.birth_date, today());
    const ageText = age === null ? "" : (r.birth_date.length === 4 ? t("about_age", { n: age }) : t("age", { n: age }));
    const st = statusOf(view, r);
    let detail;
    if (r.presence === "moved_away") detail = t("moved_since", { d: showDate(r.presence_since) });
    else if (r.presence === "deceased") detail = t("deceased_on", { d: showDate(r.presence_since) });
    else if (age !== null && age < 18) detail = `(${t("under18")})`;
    else detail = `${t("eid")}: ${eidLabel(st.eid)}${st.eid === "none" ? " ⚠" : " ✓"} · ${t("signature")}: ${signatureLabel(st)}`;
    return `<li class="resident" data-id="${esc(r.id)}"><p><strong>${esc(r.full_name)}</strong> · ${esc(t(`rel_${r.relation_to_head}`))} · ${esc(ageText)}${r.pending ? ` <span class="pending">${esc(t("waiting"))}</span>` : ""}<br><span class="status">${esc(detail)}</span></p>${button("edit-resident", t("edit"), { arg: r.id })}</li>`;
  });
  const visits = [...view.visits.values()].filter((v) => v.household_id === h.id).sort((a, b) => String(b.visited_at).localeCompare(String(a.visited_at)));
  const visitItems = visits.map((v) => {
    const label = `${showDayMonth(v.visited_at)} ${showTime(v.visited_at)} · ${t(`o_${v.outcome}`)}`;
    const mine = !v.voided_at && (v.pending || v.volunteer_id === me.id);
    return `<li class="visit"><p class="${v.voided_at ? "struck" : ""}">${esc(label)}${v.voided_at ? ` (${esc(v.void_reason || "")}, ${esc(t("voided"))})` : ""} ${mine ? button("void", t("void"), { arg: v.id, cls: "danger" }) : ""}</p></li>`;
  });
  return `${button("go", t("back"), { arg: "home", cls: "text", id: "back" })}
<div class="spread"><h1 id="household-title">${esc(h.head_name)}</h1>${button("edit-household", t("edit"), { arg: h.id })}</div>
<p>${esc(h.address)}<br>${h.phone ? `☎ ${esc(groupedPhone(h.phone))} · ` : ""}${h.code ? `${esc(t("code"))}: ${esc(h.code)}` : ""}</p>
${view.waiting.has(h.id) ? `<p class="pending">${esc(t("waiting"))}</p>` : ""}
<h2>${esc(t("residents"))} (${residents.length})</h2><ul class="list" id="residents">${people.join("")}</ul>
${button("new-resident", t("add_person"), { id: "add-person" })}
<h2>${esc(t("visits"))}</h2><ul class="list" id="visits">${visitItems.join("")}</ul>
${button("new-visit", t("record_visit"), { cls: "primary", id: "record-visit" })}`;
}
async function householdForm(view, me) {
  const editing = ui.editing ? view.households.get(ui.editing) : null;
  // "Enter again" brings back what was not saved, on top of the record as it is.
  const v = Object.assign({}, editing, ui.draft);
  const areas = editing ? "" : `<fieldset class="choices"><legend>${esc(t("neighbourhood"))}</legend>${me.assignments.map((a) => `<label class="row"><input type="radio" name="area_id" value="${esc(a.id)}" ${a.id === (v.area_id || ui.area) ? "checked" : ""}>${esc(a.name)}</label>`).join("")}</fieldset>`;
  return `${button("go", t("back"), { arg: editing ? "household" : "home", cls: "text" })}
<h1>${esc(t(editing ? "edit_household_title" : "add_household_title"))}</h1>
<form data-form="household" novalidate>${areas}
<label for="address">${esc(t("address"))}</label><input id="address" name="address" maxlength="300" value="${esc(v.address)}">
<label for="head_name">${esc(t("head_name"))}</label><input id="head_name" name="head_name" maxlength="200" value="${esc(v.head_name)}">
<label for="phone">${esc(t("phone_optional"))}</label><input id="phone" name="phone" inputmode="tel" maxlength="20" value="${esc(v.phone)}">
<label for="code">${esc(t("code_optional"))}</label><input id="code" name="code" maxlength="40" value="${esc(v.code)}">
<p id="form-error" class="error" role="alert"></p>${ui.maybeDuplicate ? `<p class="card">${esc(t("maybe_exists", { h: ui.maybeDuplicate }))}</p>` : ""}
<button class="primary" type="submit" id="save">${esc(ui.maybeDuplicate ? t("add_anyway") : t("save"))}</button></form>`;
}
async function saveHousehold(form, view) {
  const values = { address: form.address.value.trim(), head_name: form.head_name.value.trim(), phone: form.phone.value.replace(/\s/g, "") || null, code: form.code.value.trim() || null };
  if (!values.address) return showFormError(t("need_address"));
  if (!values.head_name) return showFormError(t("need_name"));
  if (values.phone && !/^[0-9+().-]{6,20}$/.test(values.phone)) return showFormError(t("bad_phone"));
  const editing = ui.editing ? view.households.get(ui.editing) : null;
  const area = editing ? editing.area_id : (form.querySelector("input[name=area_id]:checked") || {}).value || ui.area;
  if (values.code && [...view.households.values()].some((h) => h.area_id === area && h.code === values.code && h.id !== (editing || {}).id)) return showFormError(t("code_taken"));
  if (editing) {
    const changed = {}, before = {};
    for (const [k, value] of Object.entries(values)) if ((editing[k] ?? null) !== value) { changed[k] = value; before[k] = editing[k] ?? null; }
    if (Object.keys(changed).length) {
      const server = await req(database.transaction("households").objectStore("households").get(editing.id));
      await enqueue("update", "household", editing.id, changed, { base_version: server ? server.version : 1, before });
    }
    ui.screen = "household";
  } else {
    const same = [...view.households.values()].find((h) => h.area_id === area && (fold(h.address) === fold(values.address) || fold(h.head_name) === fold(values.head_name)));
    if (same && !ui.maybeDuplicate) { ui.draft = Object.assign({ area_id: area }, values); ui.maybeDuplicate = `${same.head_name}, ${same.address}`; return render(); }
    const id = uuidv7();
    const data = { area_id: area, address: values.address, head_name: values.head_name };
    if (values.phone) data.phone = values.phone;
    if (values.code) data.code = values.code;
    await enqueue("create", "household", id, data);
    ui.household = id; ui.screen = "household";
  }
  ui.editing = null; ui.draft = null; ui.maybeDuplicate = null;
  saved();
}
function saved() {
  toast(t("saved_here"));
  render();
  if (navigator.onLine) { clearTimeout(saved.timer); saved.timer = setTimeout(() => requestSync(), 5000); }
}
function choiceRow(name, options, selected) {
  return `<div class="choices" role="group">${options.map(([value, label]) => `<button type="button" data-choice="${esc(name)}" data-value="${esc(value)}" aria-pressed="${selected === value}">${esc(t(label))}</button>`).join("")}</div><input type="hidden" name="${esc(name)}" value="${esc(selected || "")}">`;
}
async function residentForm(view) {
  const h = view.households.get(ui.household) || {};
  const editing = ui.editingResident ? view.residents.get(ui.editingResident) : null;
  const v = Object.assign({}, editing, ui.draft);
  const [by, bm, bd] = String(v.birth_date || "").split("-");
  const presence = editing ? `<label>${esc(t("residence"))}</label>${choiceRow("presence", [["present", "p_present"], ["moved_away", "p_moved_away"], ["deceased", "p_deceased"]], v.presence || "present")}
<label for="presence_since">${esc(t("presence_since"))}</label><input type="date" id="presence_since" name="presence_since" value="${esc(v.presence_since || "")}" max="${today()}">` : "";
  const citizen = editing && v.citizen_id_last4
    ? `<label for="citizen_id">${esc(t("citizen_id"))} — ••••••••${esc(v.citizen_id_last4)} (${esc(t("reenter"))})</label>`
    : `<label for="citizen_id">${esc(t("citizen_id"))}</label>`;
  return `${button("go", t("back"), { arg: "household", cls: "text" })}<h1>${esc(t(editing ? "edit_person_title" : "add_person_title"))}</h1><p>${esc(h.head_name)}</p>
<form data-form="resident" novalidate>
<label for="full_name">${esc(t("full_name"))}</label><input id="full_name" name="full_name" maxlength="200" value="${esc(v.full_name)}">
<label>${esc(t("birth"))}</label><div class="date3"><input name="bday" inputmode="numeric" maxlength="2" aria-label="dd" value="${esc(bd || "")}"><input name="bmonth" inputmode="numeric" maxlength="2" aria-label="mm" value="${esc(bm || "")}"><input name="byear" inputmode="numeric" maxlength="4" aria-label="yyyy" id="byear" value="${esc(by || "")}"></div>
<label>${esc(t("sex"))}</label>${choiceRow("sex", [["male", "male"], ["female", "female"], ["unspecified", "unspecified"]], v.sex || "unspecified")}
<label>${esc(t("relation"))}</label>${choiceRow("relation_to_head", [["head", "rel_head"], ["spouse", "rel_spouse"], ["child", "rel_child"], ["parent", "rel_parent"], ["grandchild", "rel_grandchild"], ["sibling", "rel_sibling"], ["other", "rel_other"]], v.relation_to_head || "other")}
${presence}${citizen}<input id="citizen_id" name="citizen_id" inputmode="numeric" maxlength="12" autocomplete="off" spellcheck="false">
<label class="row"><input type="checkbox" name="consent" ${v.consent === false ? "" : "checked"}> ${esc(t("consent"))}</label>
<p id="form-error" class="error" role="alert"></p><button class="primary" type="submit" id="save">${esc(t("save"))}</button></form>`;
}
async function saveResident(form) {
  const name = form.full_name.value.trim();
  if (!name) return showFormError(t("need_name"));
  const y = form.byear.value.trim(), m = form.bmonth.value.trim(), d = form.bday.value.trim();
  let birth = y;
  if (m) birth += `-${m.padStart(2, "0")}`;
  if (m && d) birth += `-${d.padStart(2, "0")}`;
  if (!/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birth) || (d && !m)) return showFormError(t("birth_bad"));
  if (birth.length === 10 && new Date(`${birth}T00:00:00Z`).toISOString().slice(0, 10) !== birth) return showFormError(t("birth_bad"));
  if (birth.length >= 7 && (Number(m) < 1 || Number(m) > 12)) return showFormError(t("birth_bad"));
  if (Number(y) < 1900) return showFormError(t("birth_early"));
  if (birth > today().slice(0, birth.length)) return showFormError(t("birth_future"));
  const citizen = form.citizen_id.value.trim();
  if (citizen && !/^\d{12}$/.test(citizen)) return showFormError(t("citizen_bad"));
  const values = { full_name: name, birth_date: birth, sex: form.sex.value, relation_to_head: form.relation_to_head.value, consent: form.consent.checked };
  const view = await localView();
  const editing = ui.editingResident ? view.residents.get(ui.editingResident) : null;
  if (editing) {
    values.presence = form.presence.value;
    values.presence_since = values.presence === "present" ? null : form.presence_since.value || null;
    if (values.presence !== "present" && !values.presence_since) return showFormError(t("need_presence_since"));
    if (values.presence_since && values.presence_since > today()) return showFormError(t("date_future"));
    const changed = {}, before = {};
    for (const [k, value] of Object.entries(values)) if ((editing[k] ?? null) !== value) { changed[k] = value; before[k] = editing[k] ?? null; }
    // Presence and its date travel together.
    if ("presence" in changed || "presence_since" in changed) { changed.presence = values.presence; changed.presence_since = values.presence_since; }
    if (citizen) changed.citizen_id = citizen;
    if (Object.keys(changed).length) {
      const server = await req(database.transaction("residents").objectStore("residents").get(editing.id));
      await enqueue("update", "resident", editing.id, changed, { base_version: server ? server.version : 1, before, household_id: editing.household_id });
    }
  } else {
    const data = Object.assign({ household_id: ui.household }, values);
    if (citizen) data.citizen_id = citizen;
    await enqueue("create", "resident", uuidv7(), data);
  }
  ui.editingResident = null; ui.draft = null;
  ui.screen = "household";
  saved();
}
async function visitScreen(view) {
  const h = view.households.get(ui.household) || {};
  if (!ui.outcome) {
    const outcomes = ["helped", "already_done", "not_home", "refused", "moved_away"];
    return `${button("go", t("back"), { arg: "household", cls: "text" })}<h1>${esc(t("record_visit"))}</h1><p>${esc(h.head_name)} · ${esc(showTime(nowInstant()))}</p>
<label for="notes">${esc(t("notes"))}</label><textarea id="notes" maxlength="2000" data-input="notes">${esc(ui.notes || "")}</textarea>
<h2>${esc(t("outcome"))}</h2>${outcomes.map((o) => button("outcome", t(`o_${o}`), { arg: o, cls: "primary", id: `outcome-${o}` })).join("")}`;
  }
  const adults = householdSummary(view, h).adults;
  const cards = adults.map((r) => {
    const st = statusOf(view, r);
    return `<div class="card adult" data-resident="${esc(r.id)}"><p><strong>${esc(r.full_name)}</strong> · ${esc(t("age", { n: ageOn(r.birth_date, today()) }))}</p>
<p>${esc(t("eid"))} (${esc(t("current", { v: eidLabel(st.eid) }))})</p>${choiceRow(`eid-${r.id}`, [["", "no_change"], ["none", "e_none"], ["level1", "e_level1"], ["level2_pending", "e_level2_pending"], ["level2", "e_level2"]], "")}
<label>${esc(t("since"))}</label><input type="date" name="eid_on-${esc(r.id)}" value="${today()}" max="${today()}">
<p>${esc(t("signature"))} (${esc(t("current", { v: signatureLabel(st) }))})</p>${choiceRow(`sig-${r.id}`, [["", "no_change"], ["none", "s_none"], ["electronic", "s_electronic"], ["digital", "s_digital"]], "")}
<label>${esc(t("since"))}</label><input type="date" name="sig_on-${esc(r.id)}" value="${today()}" max="${today()}">
<label>${esc(t("expires"))}</label><input type="date" name="sig_expires-${esc(r.id)}"></div>`;
  });
  return `${button("go", t("back"), { arg: "household", cls: "text" })}<h1>${esc(h.head_name)} · ${esc(t(`o_${ui.outcome}`))}</h1>
<form data-form="visit" novalidate>${cards.join("")}
<label>${esc(t("broadband"))}</label>${choiceRow("broadband", [["", "no_change"], ["yes", "yes"], ["no", "no"], ["unknown", "unknown"]], "")}
<p id="form-error" class="error" role="alert"></p><button class="primary" type="submit" id="save-visit">${esc(t("save_visit"))}</button></form>`;
}
async function saveVisit(form) {
  const events = [];
  const day = today();
  for (const card of form.querySelectorAll(".adult")) {
    const rid = card.dataset.resident;
    const eid = form[`eid-${rid}`].value, sig = form[`sig-${rid}`].value;
    if (eid) {
      const on = form[`eid_on-${rid}`].value || day;
      if (on > day) return showFormError(t("date_future"));
      events.push({ id: uuidv7(), kind: "eid", resident_id: rid, value: eid, effective_on: on });
    }
    if (sig) {
      const on = form[`sig_on-${rid}`].value || day;
      if (on > day) return showFormError(t("date_future"));
      const event = { id: uuidv7(), kind: "signature", resident_id: rid, value: sig, effective_on: on };
      if (sig === "digital") {
        // The certificate counts from its issue date (the date given) through its expiry.
        const expires = form[`sig_expires-${rid}`].value;
        if (!expires || expires < on) return showFormError(t("need_expiry"));
        event.issued_on = on;
        event.expires_on = expires;
      }
      events.push(event);
    }
  }
  if (form.broadband && form.broadband.value) events.push({ id: uuidv7(), kind: "broadband", value: form.broadband.value, effective_on: day });
  await recordVisit(ui.outcome, events);
}
async function recordVisit(outcome, events) {
  const data = { household_id: ui.household, visited_at: nowInstant(), outcome, events };
  if (ui.notes) data.notes = ui.notes;
  await enqueue("create", "visit", uuidv7(), data);
  ui.outcome = null; ui.notes = ""; ui.screen = "household";
  saved();
}
function voidScreen(view) {
  const v = view.visits.get(ui.voiding) || {};
  const reasons = ["r_wrong_household", "r_wrong_outcome", "r_twice", "r_other"];
  return `<h1>${esc(t("void_title", { d: `${showDayMonth(v.visited_at)} ${showTime(v.visited_at)}` }))}</h1>
<form data-form="void" novalidate>${reasons.map((r, i) => `<label class="row"><input type="radio" name="reason" value="${r}" ${i === 0 ? "checked" : ""}> ${esc(t(r))}</label>`).join("")}
<input name="other" maxlength="500" aria-label="${esc(t("r_other"))}"><p>${esc(t("void_also"))}</p>
<p id="form-error" class="error" role="alert"></p>
<div class="row">${button("go", t("no"), { arg: "household" })}<button type="submit" class="danger" id="void-confirm">${esc(t("void_confirm"))}</button></div></form>`;
}
async function saveVoid(form) {
  const choice = form.querySelector("input[name=reason]:checked").value;
  const reason = choice === "r_other" ? form.other.value.trim() : t(choice);
  if (!reason) return showFormError(t("need_name"));
  const visit = (await localView()).visits.get(ui.voiding);
  await enqueue("void", "visit", ui.voiding, { reason }, { household_id: visit && visit.household_id });
  ui.voiding = null; ui.screen = "household";
  saved();
}
async function syncScreen(view) {
  const cutoff = new Date(Date.now() - KEEP_DAYS * 86400000).toISOString();
  const results = (await all("results")).filter((r) => r.at >= cutoff).sort((a, b) => b.at.localeCompare(a.at) || b.seq - a.seq);
  const notSaved = (await all("not_saved")).filter((r) => r.at >= cutoff).sort((a, b) => b.at.localeCompare(a.at) || b.seq - a.seq);
  const line = (r) => `<li class="result result-${esc(r.result || "rejected")}"><p>${esc(r.text)}${(r.lines || []).map((l) => `<br>${esc(l)}`).join("")}</p></li>`;
  return `${button("go", t("back"), { arg: "home", cls: "text", id: "back" })}<h1>${esc(t("sync_screen"))}</h1>
<p id="queue-count">${esc(t("queue_n", { n: view.queue.length }))}</p><p id="sync-status" class="muted">${esc(sync.status)}</p>
${button("sync-now", t("sync_now"), { cls: "primary", id: "sync-now" })}
<ul class="list" id="queue">${view.queue.slice().sort((a, b) => a.seq - b.seq).map((m) => `<li class="queued"><p class="pending">⟳ ${esc(queuedText(view, m))}</p></li>`).join("")}</ul>
<h2>${esc(t("not_saved"))}</h2><ul class="list" id="not-saved">${notSaved.map((r) => `<li class="not-saved"><p>${esc(r.text)}${(r.lines || []).map((l) => `<br>${esc(l)}`).join("")}</p><div class="row">${button("dismiss", t("dismiss"), { arg: r.key })}${button("enter-again", t("enter_again"), { arg: r.key })}</div></li>`).join("")}</ul>
<h2>${esc(t("results"))}</h2><ul class="list" id="results">${results.map(line).join("")}</ul>`;
}
/** The volunteer's sign-ins (list_my_sessions), or `null` without a connection. */
async function loadDevices() {
  try {
    const response = await api("GET", "/api/v1/me/sessions");
    return response.ok ? (await response.json()).items : null;
  } catch (e) {
    return null;
  }
}
function devicesList() {
  if (ui.devices === undefined) return button("devices", t("devices"), { id: "devices" });
  if (ui.devices === null) return `<p class="muted">${esc(t("devices_offline"))}</p>${button("devices", t("devices"), { id: "devices" })}`;
  return `<ul class="list" id="device-list">${ui.devices.map((d) => `<li><p>${esc(d.user_agent || "?")}<br><span class="muted">${esc(t("last_used", { d: `${showDayMonth(d.last_used_at)} ${showTime(d.last_used_at)}` }))}</span></p>${d.current ? `<p class="ok">✓ ${esc(t("this_device"))}</p>` : button("revoke-device", t("sign_out_device"), { arg: d.id, cls: "danger" })}</li>`).join("")}</ul>`;
}
/** A queued change in words: what it is and whose. */
function queuedText(view, m) {
  const name = nameOf(view, m);
  if (m.entity === "visit" && m.op === "create") return t("q_visit", { name, outcome: t(`o_${m.data.outcome}`) });
  if (m.entity === "visit") return t("q_void", { name });
  if (m.op === "create") return t(m.entity === "household" ? "q_household" : "q_resident", { name });
  return t("q_update", { name });
}
async function settingsScreen(view) {
  const confirm = ui.confirmSignOut ? `<div class="card" id="signout-warning"><p>${esc(t("signout_warn", { n: ui.confirmSignOut }))}</p>${button("sync-first", t("sync_first"), { cls: "primary" })}${button("signout-anyway", t("signout_anyway"), { cls: "danger", id: "signout-anyway" })}</div>` : "";
  return `${button("go", t("back"), { arg: "home", cls: "text", id: "back" })}<h1>${esc(t("settings"))}</h1>
<p>${esc(t("language"))}: ${langSwitch()}</p>${confirm}
<h2>${esc(t("devices"))}</h2>${devicesList()}
${button("signout", t("signout"), { cls: "primary danger", id: "signout" })}<p class="muted">${esc(t("version", { v: `${APP_VERSION} (${SHELL})` }))}</p>`;
}

// ---------------------------------------------------------------- events
document.addEventListener("click", async (event) => {
  ui.lastActive = Date.now();
  const choice = event.target.closest("[data-choice]");
  if (choice) {
    const group = choice.parentElement;
    for (const b of group.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === choice));
    group.nextElementSibling.value = choice.dataset.value;
    return;
  }
  const target = event.target.closest("[data-action]");
  if (!target) return;
  const arg = target.dataset.arg;
  switch (target.dataset.action) {
    case "go": ui.screen = arg; leaveConsoleScreen(); ui.outcome = null; ui.confirmSignOut = 0; ui.devices = undefined; break;
    case "lang": lang = lang === "vi" ? "en" : "vi"; document.documentElement.lang = lang; await setMeta("lang", lang); break;
    case "show-password": { const p = document.getElementById("password"); p.type = p.type === "password" ? "text" : "password"; return; }
    case "filter": ui.filter = arg; break;
    case "open-household": ui.household = arg; ui.screen = "household"; break;
    case "new-household": ui.editing = null; ui.draft = null; ui.maybeDuplicate = null; ui.screen = "household-form"; break;
    case "edit-household": ui.editing = arg; ui.screen = "household-form"; break;
    case "new-resident": ui.editingResident = null; ui.draft = null; ui.screen = "resident-form"; break;
    case "edit-resident": ui.editingResident = arg; ui.draft = null; ui.screen = "resident-form"; break;
    case "enter-again": {
      // The form again, filled with what was not saved (never a citizen ID): an id conflict
      // opens the record the server holds; a visit starts a new visit.
      const entry = await req(database.transaction("not_saved").objectStore("not_saved").get(arg));
      if (!entry) break;
      await transact(["not_saved"], (tx) => { tx.objectStore("not_saved").delete(arg); });
      const known = await localView();
      ui.household = entry.household_id;
      if (entry.entity === "household") {
        ui.editing = known.households.has(entry.id) ? entry.id : null;
        ui.draft = entry.data; ui.maybeDuplicate = null; ui.screen = "household-form";
      } else if (entry.entity === "resident") {
        ui.editingResident = known.residents.has(entry.id) ? entry.id : null;
        ui.draft = entry.data; ui.screen = "resident-form";
      } else {
        ui.outcome = null; ui.notes = ""; ui.screen = known.households.has(entry.household_id) ? "visit" : "home";
      }
      break;
    }
    case "new-visit": ui.outcome = null; ui.notes = ""; ui.screen = "visit"; break;
    case "outcome":
      if (["not_home", "refused", "moved_away"].includes(arg)) { ui.outcome = arg; await recordVisit(arg, []); return; }
      ui.outcome = arg; break;
    case "void": ui.voiding = arg; ui.screen = "void"; break;
    case "sync-now": requestSync(true); break;
    case "dismiss": await transact(["not_saved"], (tx) => { tx.objectStore("not_saved").delete(arg); }); break;
    case "signout": await signOut(false); return;
    case "signout-anyway": await signOut(true); return;
    case "sync-first": ui.confirmSignOut = 0; await requestSync(true); await signOut(false); return;
    case "forgot": {
      // E-mail accounts get a reset mail (always 202); phone accounts a new link from the head.
      const login = (document.getElementById("login") || {}).value || "";
      if (!login.includes("@")) return showFormError(t("forgot_phone"));
      try {
        await fetch("/api/v1/auth/password-reset", { method: "POST", headers: baseHeaders({ "Content-Type": "application/json" }), body: JSON.stringify({ email: login.trim() }) });
        return showFormError(t("forgot_mail"));
      } catch (_) {
        return showFormError(t("need_signal"));
      }
    }
    case "devices": ui.devices = await loadDevices(); break;
    case "revoke-device":
      try { await api("DELETE", `/api/v1/me/sessions/${arg}`); } catch (_) { /* shown as offline below */ }
      ui.devices = await loadDevices();
      break;
    case "leave-join": ui.joinToken = null; history.replaceState(null, "", "/app/"); ui.screen = "signin"; break;
    case "other": ui.confirmOther = true; break;
    case "other-cancel": ui.confirmOther = false; break;
    case "other-confirm": ui.confirmOther = false; await wipe(STORES.filter((s) => s !== "keys")); break;
    default:
      // The console's own actions; it says whether to draw again.
      if (!(await consoleAction(target.dataset.action, arg, target))) return;
  }
  render();
});
document.addEventListener("submit", async (event) => {
  event.preventDefault();
  ui.lastActive = Date.now();
  const form = event.target;
  const submit = form.querySelector("[type=submit]");
  if (submit) submit.disabled = true;
  try {
    const view = await localView().catch(() => null);
    const handlers = { signin: signIn, join, unlock, household: (f) => saveHousehold(f, view), resident: saveResident, visit: saveVisit, void: saveVoid };
    await (handlers[form.dataset.form] || CONSOLE_FORMS[form.dataset.form])(form);
  } catch (e) {
    if (e instanceof SignInEnded) return signInEnded();
    showFormError(t(e instanceof Unreachable ? "need_signal" : "save_failed"));
    console.error("form", e && e.name);
  } finally {
    if (submit && document.body.contains(submit)) submit.disabled = false;
  }
});
document.addEventListener("input", (event) => {
  ui.lastActive = Date.now();
  const el = event.target;
  if (el.dataset.input === "query") {
    ui.query = el.value;
    clearTimeout(ui.searchTimer);
    ui.searchTimer = setTimeout(async () => { await render(); const s = document.getElementById("search"); if (s) { s.focus(); s.setSelectionRange(s.value.length, s.value.length); } }, 150);
  }
  if (el.dataset.input === "notes") ui.notes = el.value;
});
document.addEventListener("change", (event) => {
  if (event.target.dataset.change === "area") { ui.area = event.target.value; render(); }
  else if (event.target.dataset.change) consoleChange(event.target);
});
window.addEventListener("hashchange", () => {
  const joined = /#join=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (joined) { ui.joinToken = joined[1]; render(); }
});
window.addEventListener("online", () => { renderBanners(); requestSync(true); });
window.addEventListener("offline", () => renderBanners());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") { checkLock(); if (navigator.onLine) requestSync(true); }
});
/** The app locks after 5 minutes without a touch (and on every cold start). */
function checkLock() {
  if (ui.unlocked && Date.now() - ui.lastActive > LOCK_AFTER_MS) { ui.unlocked = false; render(); }
}
setInterval(checkLock, 15000);
setInterval(() => { if (navigator.onLine && ui.unlocked) requestSync(); }, 15 * 60 * 1000);

// ---------------------------------------------------------------- start
async function start() {
  database = await openDatabase();
  // Vietnamese unless the volunteer chose English.
  lang = (await getMeta("lang")) || "vi";
  document.documentElement.lang = lang;
  // Not awaited: the first screen never waits for the network (the worker serves it offline).
  fetch("/app/problems.json").then((r) => r.json()).then((titles) => { problemTitles = titles; }, () => {});
  const joined = /#join=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (joined) ui.joinToken = joined[1];
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
  }
  // "Not saved" and results are kept at most 30 days.
  const cutoff = new Date(Date.now() - KEEP_DAYS * 86400000).toISOString();
  await transact(["results", "not_saved"], async (tx) => {
    for (const s of ["results", "not_saved"]) for (const r of await req(tx.objectStore(s).getAll())) if (r.at < cutoff) tx.objectStore(s).delete(r.key);
  });
  ui.screen = "home";
  await render();
}
start();
