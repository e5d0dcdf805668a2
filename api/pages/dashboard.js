// The adoption dashboard: signs in against the API, then shows the figures of an area in
// the caller's scope on a chosen day. Everything is drawn here (SVG for the trend), so the
// page works with no internet. Tokens live in sessionStorage: closing the tab signs out.
"use strict";

const TEXT = {
  vi: {
    title: "Bảng theo dõi định danh điện tử và chữ ký số",
    signin: "Đăng nhập", email: "Thư điện tử", password: "Mật khẩu", signout: "Đăng xuất",
    switch: "English", area: "Khu vực", day: "Ngày", trend: "Diễn biến theo tuần",
    children: "Các khu vực trực thuộc", breakdown: "Theo giới tính và độ tuổi",
    eid: "Người trưởng thành có định danh điện tử (VNeID)",
    signature: "Người trưởng thành có chữ ký số / chữ ký điện tử",
    broadband: "Hộ có cáp quang",
    of: "trên", needed: "còn cần", people: "người", households: "hộ",
    projected: "dự kiến đạt", deadline: "hạn", target_at_least: "ít nhất", target_more_than: "trên",
    met: "Đã đạt", on_track: "Đúng tiến độ", at_risk: "Có nguy cơ", off_track: "Chậm tiến độ",
    ended: "Địa bàn này đã kết thúc từ ngày", formed_from: "Hình thành từ", went_to: "Đã sáp nhập vào",
    history: "lịch sử",
    missed: "Không đạt", on_deadline: "đến hạn đạt", short_by: "thiếu", met_on_deadline: "đã đạt đúng hạn",
    recorded: "Theo số ghi nhận", official: "Theo số chính thức", coverage: "Độ phủ",
    pace: "Tốc độ 28 ngày qua", name: "Khu vực", no_children: "Không có khu vực trực thuộc.",
    sex: "Giới tính", age: "Độ tuổi", male: "Nam", female: "Nữ", unspecified: "Không rõ",
    adults: "Người trưởng thành", export_csv: "Tải CSV", export_xlsx: "Tải Excel",
    failed: "Không tải được dữ liệu", bad_login: "Sai thư điện tử hoặc mật khẩu",
    none: "—", loading: "Đang tải…", digest: "Nhận bản tin hằng tuần qua thư",
    sign_offs: "Chốt số liệu", so_signed_on_time: "Đã chốt đúng hạn", so_signed_late: "Đã chốt muộn",
    so_awaiting: "Chưa chốt", so_overdue: "Quá hạn chưa chốt", period: "tháng", signed_on: "chốt ngày",
    due: "hạn chốt", signed_by: "Người chốt:", reported_vs_now: "Số đã báo cáo và số hiện nay",
    reported: "Đã báo cáo", now: "Hiện nay", difference: "Chênh lệch", late_events: "sự kiện nhận muộn",
    voided_events: "sự kiện bị hủy", residents_added: "nhân khẩu ghi thêm", residents_changed: "nhân khẩu được sửa",
    report_holds: "Số liệu đã báo cáo vẫn đúng đến nay", since_signing: "Thay đổi sau khi chốt",
    reopen: "Mở lại để chốt lại", reopen_reason: "Lý do mở lại", sign_off: "Chốt số liệu tháng",
    below_signed: "Các khu vực trực thuộc",
  },
  en: {
    title: "e-ID and digital signature dashboard",
    signin: "Sign in", email: "E-mail", password: "Password", signout: "Sign out",
    switch: "Tiếng Việt", area: "Area", day: "Day", trend: "Week by week",
    children: "Areas below", breakdown: "By sex and age",
    eid: "Adults with an electronic identity (VNeID)",
    signature: "Adults with a digital or electronic signature",
    broadband: "Households with fibre",
    of: "of", needed: "still needed", people: "people", households: "households",
    projected: "projected", deadline: "deadline", target_at_least: "at least", target_more_than: "more than",
    met: "Met", on_track: "On track", at_risk: "At risk", off_track: "Off track",
    ended: "This area ended on", formed_from: "Formed from", went_to: "Went into",
    history: "history",
    missed: "Missed", on_deadline: "reached by the deadline", short_by: "short by", met_on_deadline: "met by the deadline",
    recorded: "Of recorded", official: "Of official", coverage: "Coverage",
    pace: "Pace, last 28 days", name: "Area", no_children: "No areas below.",
    sex: "Sex", age: "Age", male: "Men", female: "Women", unspecified: "Unspecified",
    adults: "Adults", export_csv: "Download CSV", export_xlsx: "Download Excel",
    failed: "Could not load the figures", bad_login: "Wrong e-mail or password",
    none: "—", loading: "Loading…", digest: "Receive the weekly digest by e-mail",
    sign_offs: "Sign-off", so_signed_on_time: "Signed off on time", so_signed_late: "Signed off late",
    so_awaiting: "Not signed off yet", so_overdue: "Overdue", period: "month", signed_on: "signed on",
    due: "due", signed_by: "Signed by", reported_vs_now: "Reported and now",
    reported: "Reported", now: "Now", difference: "Difference", late_events: "late events",
    voided_events: "events voided", residents_added: "people added", residents_changed: "people changed",
    report_holds: "The reported figures still hold", since_signing: "Since signing",
    reopen: "Reopen to sign again", reopen_reason: "Reason for reopening", sign_off: "Sign off",
    below_signed: "Areas below",
  },
};
const COLOURS = { eid: "#0b5cad", signature: "#8e24aa", broadband: "#2e7d32" };

const state = {
  lang: sessionStorage.getItem("eid.lang") || "vi",
  sort: "name",
  order: "asc",
};

const $ = (selector) => document.querySelector(selector);
const t = (key) => TEXT[state.lang][key] || key;

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attributes) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

const locale = () => (state.lang === "vi" ? "vi-VN" : "en-GB");
const number = (n) => (n === null || n === undefined ? t("none") : n.toLocaleString(locale()));
const percent = (p) =>
  p === null || p === undefined
    ? t("none")
    : p.toLocaleString(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " %";
const date = (d) => (d ? new Date(d + "T00:00:00Z").toLocaleDateString(locale(), { timeZone: "UTC" }) : t("none"));

async function refresh() {
  const token = sessionStorage.getItem("eid.refresh");
  if (!token) return false;
  const response = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: token }),
  });
  if (!response.ok) return false;
  const pair = await response.json();
  sessionStorage.setItem("eid.access", pair.access_token);
  sessionStorage.setItem("eid.refresh", pair.refresh_token);
  return true;
}

async function api(path, raw) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(path, {
      headers: {
        Authorization: "Bearer " + sessionStorage.getItem("eid.access"),
        "Accept-Language": state.lang,
      },
    });
    if (response.status === 401 && attempt === 0 && (await refresh())) continue;
    if (response.status === 401) {
      signOut();
      throw new Error(t("failed"));
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || problem.title || t("failed"));
    }
    return raw ? response.blob() : response.json();
  }
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("#lang").textContent = t("switch");
}

function signOut() {
  sessionStorage.removeItem("eid.access");
  sessionStorage.removeItem("eid.refresh");
  $("#board").hidden = true;
  $("#signout").hidden = true;
  $("#signin").hidden = false;
}

async function signIn(event) {
  event.preventDefault();
  $("#signin-message").textContent = "";
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept-Language": state.lang },
    body: JSON.stringify({ email: $("#email").value.trim(), password: $("#password").value }),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    $("#signin-message").textContent = response.status === 401 ? t("bad_login") : problem.detail || t("failed");
    return;
  }
  const pair = await response.json();
  sessionStorage.setItem("eid.access", pair.access_token);
  sessionStorage.setItem("eid.refresh", pair.refresh_token);
  $("#password").value = "";
  await start();
}

async function start() {
  $("#signin").hidden = true;
  $("#board").hidden = false;
  $("#signout").hidden = false;
  // The ward's today (the server's time zone), not the UTC date: before 07:00 in
  // Vietnam the UTC date is still yesterday.
  const zoneMeta = document.querySelector('meta[name="eid-time-zone"]');
  const zone = (zoneMeta && zoneMeta.content) || "Asia/Ho_Chi_Minh";
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
  $("#as-of").max = today;
  if (!$("#as-of").value) $("#as-of").value = today;
  const me = await api("/api/v1/me");
  state.me = me;
  const areas = [];
  let cursor = null;
  do {
    const page = await api("/api/v1/areas?limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    areas.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  // Broadest first: the caller's own area is the default.
  const depth = { province: 0, district: 1, town: 1, ward: 2, neighbourhood: 3 };
  areas.sort((a, b) => depth[a.kind] - depth[b.kind] || a.code.localeCompare(b.code));
  const top = Math.min(...areas.map((a) => depth[a.kind]));
  const picker = $("#area");
  picker.replaceChildren(
    ...areas.map((a) => element("option", { value: a.id }, "\u00a0\u00a0".repeat(depth[a.kind] - top) + a.name)),
  );
  if (me.role === "official" || me.role === "head") {
    const choice = await api("/api/v1/me/digest");
    $("#digest").checked = choice.subscribed;
    $("#digest-line").hidden = false;
  }
  const own = me.area && areas.find((a) => a.id === me.area.id);
  picker.value = own ? own.id : areas[0] ? areas[0].id : "";
  await load();
}

function card(figures) {
  const judged = figures.rate_official ?? figures.rate_recorded;
  const denominator = figures.official_denominator ?? figures.recorded_denominator;
  const unit = figures.indicator === "broadband" ? t("households") : t("people");
  const bar = element("div", { class: "bar", role: "img", "aria-label": percent(judged) });
  const fill = element("div", { class: "fill" });
  fill.style.width = Math.min(judged || 0, 100) + "%";
  fill.style.background = COLOURS[figures.indicator];
  bar.append(fill);
  const targets = element("ul", { class: "targets" });
  for (const target of figures.targets) {
    const marker = element("div", { class: "marker", title: target.threshold_percent + " %" });
    marker.style.left = target.threshold_percent + "%";
    bar.append(marker);
    // A passed deadline is history: said as met or missed on that day, by how many, after
    // the targets still in force (the server lists them in that order).
    const then = target.on_deadline;
    const outcome = !then
      ? [
          target.still_needed > 0 ? ` · ${t("needed")} ${number(target.still_needed)} ${unit}` : "",
          target.projected_on ? ` · ${t("projected")} ${date(target.projected_on)}` : "",
        ]
      : then.short_by > 0
        ? [` · ${t("on_deadline")} ${percent(then.rate)}, ${t("short_by")} ${number(then.short_by)} ${unit}`]
        : [` · ${t("met_on_deadline")} (${percent(then.rate)})`];
    targets.append(
      element(
        "li",
        { class: then ? "passed" : "in-force" },
        element("span", { class: "status " + target.status }, t(target.status)),
        ` ${t("target_" + target.comparison)} ${target.threshold_percent} %, ${t("deadline")} ${date(target.deadline)}`,
        ...outcome,
      ),
    );
  }
  return element(
    "article",
    { class: "card", id: "card-" + figures.indicator },
    element("h3", {}, t(figures.indicator)),
    element("p", { class: "rate" }, percent(judged)),
    element("p", { class: "count" }, `${number(figures.count)} / ${number(denominator)}`),
    bar,
    targets,
    element(
      "p",
      { class: "small" },
      `${t("recorded")}: ${percent(figures.rate_recorded)}`,
      figures.official_denominator !== null
        ? ` · ${t("official")}: ${percent(figures.rate_official)} · ${t("coverage")}: ${percent(figures.coverage)}`
        : "",
      ` · ${t("pace")}: ${figures.pace_change >= 0 ? "+" : ""}${number(figures.pace_change)}`,
    ),
  );
}

function trend(series) {
  const width = 640, height = 240, left = 40, bottom = 24, top = 10;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("trend") });
  const points = series.points;
  const x = (i) => left + (i * (width - left - 10)) / Math.max(points.length - 1, 1);
  const y = (rate) => top + (1 - (rate || 0) / 100) * (height - top - bottom);
  for (const level of [0, 25, 50, 75, 100]) {
    chart.append(svg("line", { x1: left, x2: width - 10, y1: y(level), y2: y(level), stroke: "#ddd" }));
    const label = svg("text", { x: 4, y: y(level) + 4, "font-size": 12 });
    label.textContent = level + "%";
    chart.append(label);
  }
  series.points.forEach((point, i) => {
    if (i % Math.ceil(points.length / 6) === 0 || i === points.length - 1) {
      const label = svg("text", { x: x(i), y: height - 6, "font-size": 11, "text-anchor": "middle" });
      label.textContent = date(point.day).replace(/\/\d{4}$/, "");
      chart.append(label);
    }
  });
  for (const indicator of ["eid", "signature", "broadband"]) {
    const coordinates = points.map((point, i) => {
      const value = point.values.find((v) => v.indicator === indicator);
      return `${x(i).toFixed(1)},${y(value.rate_official ?? value.rate_recorded).toFixed(1)}`;
    });
    chart.append(
      svg("polyline", {
        points: coordinates.join(" "),
        fill: "none",
        stroke: COLOURS[indicator],
        "stroke-width": 3,
        "data-indicator": indicator,
      }),
    );
  }
  const legend = element(
    "p",
    { class: "legend" },
    ...["eid", "signature", "broadband"].map((indicator) => {
      const swatch = element("span", { class: "swatch" });
      swatch.style.background = COLOURS[indicator];
      return element("span", {}, swatch, t(indicator) + " ");
    }),
  );
  return [chart, legend];
}

function childrenTable(children) {
  if (!children.length) return [element("p", {}, t("no_children"))];
  const header = (key, label) => {
    const cell = element("th", { scope: "col" }, element("button", { type: "button", "data-sort": key }, label));
    return cell;
  };
  const rate = (figures, indicator) => {
    const value = figures.indicators.find((i) => i.indicator === indicator);
    return value.rate_official ?? value.rate_recorded;
  };
  const table = element(
    "table",
    { id: "children-table" },
    element(
      "thead",
      {},
      element(
        "tr",
        {},
        header("name", t("name")),
        header("eid_rate", "VNeID"),
        header("signature_rate", t("signature").split(" ").slice(-2).join(" ")),
        header("broadband_rate", t("broadband")),
      ),
    ),
    element(
      "tbody",
      {},
      ...children.map((child) =>
        element(
          "tr",
          { "data-area": child.area_id },
          element("td", {}, element("button", { type: "button", class: "link", "data-area": child.area_id }, child.area_name)),
          element("td", {}, percent(rate(child, "eid"))),
          element("td", {}, percent(rate(child, "signature"))),
          element("td", {}, percent(rate(child, "broadband"))),
        ),
      ),
    ),
  );
  return [table];
}

function breakdownTable(title, breakdown, label) {
  return element(
    "table",
    { class: "breakdown" },
    element("caption", {}, title),
    element("thead", {}, element("tr", {}, element("th", {}, ""), element("th", {}, t("adults")), element("th", {}, "VNeID"), element("th", {}, t("signature").split(" ").slice(-2).join(" ")))),
    element(
      "tbody",
      {},
      ...breakdown.groups.map((group) =>
        element(
          "tr",
          {},
          element("th", { scope: "row" }, label(group.group)),
          element("td", {}, number(group.adults)),
          element("td", {}, percent(group.eid_rate)),
          element("td", {}, percent(group.signature_rate)),
        ),
      ),
    ),
  );
}

// What reorganisations did to the area, with a button to read each area on the other side
// (the wards a new ward was formed from stay readable for the days they existed).
function historyLines(info, history) {
  const lines = [];
  if (info.ended_on) lines.push(element("p", { class: "ended" }, `${t("ended")} ${date(info.ended_on)}.`));
  const from = history.changes.filter((c) => c.change === "absorbed" || c.change === "formed_from");
  const into = history.changes.filter((c) => c.change === "merged_into" || c.change === "split_into");
  for (const [label, changes] of [[t("formed_from"), from], [t("went_to"), into]]) {
    const others = changes.filter((c) => c.other);
    if (!others.length) continue;
    const line = element("p", { class: "lineage" }, `${label} (${date(others[0].effective_on)}): `);
    for (const change of others) {
      const button = element("button", { type: "button", class: "link", "data-area": change.other.id }, change.other.name);
      button.addEventListener("click", () => {
        const picker = $("#area");
        if (![...picker.options].some((o) => o.value === change.other.id)) {
          picker.append(element("option", { value: change.other.id }, `${change.other.name} (${t("history")})`));
        }
        picker.value = change.other.id;
        load();
      });
      line.append(button, " ");
    }
    lines.push(line);
  }
  return lines;
}

// A write to the API (sign-off, reopen): the answer's problem detail is shown as the error.
async function send(path, body) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(path, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: "Bearer " + sessionStorage.getItem("eid.access"),
        "Accept-Language": state.lang,
      },
      body: JSON.stringify(body),
    });
    if (response.status === 401 && attempt === 0 && (await refresh())) continue;
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || answer.title || t("failed"));
    return answer;
  }
}

const month = (period) => {
  const [year, number] = period.split("-");
  return `${number}/${year}`;
};

// Reported vs now for the area itself, and what arrived since, counted.
function reportedVsNow(detail) {
  const reported = detail.sign_off.figures[0];
  const now = detail.now[0];
  const rows = reported.indicators.map((then, i) => {
    const change = now.indicators[i].count - then.count;
    return element(
      "tr",
      { "data-indicator": then.indicator },
      element("td", {}, t(then.indicator)),
      element("td", { class: "reported" }, `${number(then.count)} / ${number(then.recorded_denominator)}`),
      element("td", { class: "now" }, `${number(now.indicators[i].count)} / ${number(now.indicators[i].recorded_denominator)}`),
      element("td", { class: "change" }, (change > 0 ? "+" : "") + number(change)),
    );
  });
  const table = element(
    "table",
    { id: "sign-off-figures" },
    element("caption", {}, t("reported_vs_now")),
    element(
      "thead",
      {},
      element("tr", {}, ...["name", "reported", "now", "difference"].map((k) => element("th", { scope: "col" }, t(k)))),
    ),
    element("tbody", {}, ...rows),
  );
  const since = detail.changes_since;
  const late = since.late_events.reduce((sum, e) => sum + e.count, 0);
  const parts = [
    late ? `${number(late)} ${t("late_events")} (${since.late_events.map((e) => `${e.kind} ${e.value}: ${e.count}`).join(", ")})` : "",
    since.voided_events ? `${number(since.voided_events)} ${t("voided_events")}` : "",
    since.residents_added ? `${number(since.residents_added)} ${t("residents_added")}` : "",
    since.residents_changed ? `${number(since.residents_changed)} ${t("residents_changed")}` : "",
  ].filter(Boolean);
  const explained = element(
    "p",
    { id: "sign-off-changes" },
    detail.differences.length === 0 ? t("report_holds") : `${t("since_signing")}: ${parts.join("; ") || t("none")}`,
  );
  return [table, explained];
}

// The sign-off of the month before today for the chosen area: its state, reported vs now,
// the button to sign (the area's own head or official) or to reopen with a reason, and
// which areas below have signed on time.
async function signOffPanel(area) {
  // Only the newest call draws: a slow answer for an area left meanwhile is dropped (its
  // buttons would act on the wrong report).
  const ticket = (state.signOffTicket = (state.signOffTicket || 0) + 1);
  const current = () => ticket === state.signOffTicket && $("#area").value === area;
  const overview = await api(`/api/v1/areas/${area}/sign-off-status`);
  const own = overview.areas[0];
  const nodes = [
    element(
      "p",
      { id: "sign-off-state", "data-state": own.state },
      element("span", { class: "status " + own.state }, t("so_" + own.state)),
      ` ${t("period")} ${month(overview.period)}` +
        (own.signed_on ? ` · ${t("signed_on")} ${date(own.signed_on)}` : ` · ${t("due")} ${date(overview.due_on)}`),
    ),
  ];
  const reporter = state.me && (state.me.role === "official" || state.me.role === "head");
  if (own.sign_off_id) {
    const detail = await api(`/api/v1/sign-offs/${own.sign_off_id}`);
    nodes.push(
      element("p", { class: "small" }, `${t("signed_by")} ${detail.sign_off.signed_by.name}`),
      ...reportedVsNow(detail),
    );
    if (reporter) {
      const reason = element("input", { id: "reopen-reason", type: "text", maxlength: "500" });
      const button = element("button", { id: "reopen-button", type: "button" }, t("reopen"));
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await send(`/api/v1/sign-offs/${own.sign_off_id}/reopen`, { reason: reason.value.trim() });
          await signOffPanel(area);
        } catch (error) {
          $("#board-message").textContent = error.message;
          button.disabled = false;
        }
      });
      nodes.push(element("p", { class: "actions" }, element("label", {}, element("span", {}, t("reopen_reason")), reason), button));
    }
  } else if (reporter && state.me.area && state.me.area.id === area) {
    const button = element("button", { id: "sign-off-button", type: "button" }, `${t("sign_off")} ${month(overview.period)}`);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await send(`/api/v1/areas/${area}/sign-offs`, { period: overview.period });
        await signOffPanel(area);
      } catch (error) {
        $("#board-message").textContent = error.message;
        button.disabled = false;
      }
    });
    nodes.push(element("p", { class: "actions" }, button));
  }
  if (overview.areas.length > 1) {
    nodes.push(
      element(
        "table",
        { id: "sign-off-children" },
        element("caption", {}, t("below_signed")),
        element(
          "tbody",
          {},
          ...overview.areas.slice(1).map((a) =>
            element(
              "tr",
              { "data-area": a.area_id, "data-state": a.state },
              element("td", {}, a.area_name),
              element("td", {}, element("span", { class: "status " + a.state }, t("so_" + a.state))),
              element("td", {}, a.signed_on ? date(a.signed_on) : ""),
            ),
          ),
        ),
      ),
    );
  }
  if (current()) $("#sign-off").replaceChildren(...nodes);
}

async function load() {
  const area = $("#area").value;
  let day = $("#as-of").value;
  if (!area || !day) return;
  $("#board-message").textContent = t("loading");
  try {
    // An area that ended (merged, split, dissolved) is read on its last day at the latest.
    const [info, history] = await Promise.all([
      api(`/api/v1/areas/${area}`),
      api(`/api/v1/areas/${area}/history`),
    ]);
    if (info.ended_on && day >= info.ended_on) {
      day = new Date(Date.parse(info.ended_on + "T00:00:00Z") - 86400000).toISOString().slice(0, 10);
    }
    $("#area-history").replaceChildren(...historyLines(info, history));
    const from = new Date(Date.parse(day + "T00:00:00Z") - 26 * 7 * 86400000).toISOString().slice(0, 10);
    const [figures, series, children, bySex, byAge] = await Promise.all([
      api(`/api/v1/areas/${area}/adoption?as_of=${day}`),
      api(`/api/v1/areas/${area}/adoption/series?from=${from}&to=${day}&interval=week`),
      api(`/api/v1/areas/${area}/adoption/children?as_of=${day}&sort=${state.sort}&order=${state.order}`),
      api(`/api/v1/areas/${area}/adoption/breakdown?by=sex&as_of=${day}`),
      api(`/api/v1/areas/${area}/adoption/breakdown?by=age_band&as_of=${day}`),
    ]);
    $("#area-name").textContent = `${figures.area_name} — ${date(figures.as_of)}`;
    $("#area-name").dataset.area = figures.area_id;
    $("#area-name").dataset.asOf = figures.as_of;
    $("#cards").replaceChildren(...figures.indicators.map(card));
    $("#trend").replaceChildren(...trend(series));
    $("#children").replaceChildren(...childrenTable(children.children));
    $("#breakdown").replaceChildren(
      breakdownTable(t("sex"), bySex, (group) => t(group)),
      breakdownTable(t("age"), byAge, (group) => group),
    );
    await signOffPanel(area);
    $("#board-message").textContent = "";
  } catch (error) {
    $("#board-message").textContent = error.message;
  }
}

async function download(format) {
  const area = $("#area").value;
  const day = $("#as-of").value;
  const blob = await api(`/api/v1/areas/${area}/adoption/export?as_of=${day}&format=${format}`, true);
  const link = element("a", { href: URL.createObjectURL(blob), download: `chi-so-${day}.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
}

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", async () => {
    const token = sessionStorage.getItem("eid.refresh");
    if (token) {
      await fetch("/api/v1/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + sessionStorage.getItem("eid.access") },
        body: JSON.stringify({ refresh_token: token }),
      }).catch(() => {});
    }
    signOut();
  });
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "vi" ? "en" : "vi";
    sessionStorage.setItem("eid.lang", state.lang);
    applyLanguage();
    if (!$("#board").hidden) load();
  });
  $("#digest").addEventListener("change", async () => {
    const response = await fetch("/api/v1/me/digest", {
      method: "PUT",
      headers: {
        "Content-Type": "application/json",
        Authorization: "Bearer " + sessionStorage.getItem("eid.access"),
        "Accept-Language": state.lang,
      },
      body: JSON.stringify({ subscribed: $("#digest").checked }),
    });
    if (!response.ok) $("#digest").checked = !$("#digest").checked;
  });
  $("#area").addEventListener("change", load);
  $("#as-of").addEventListener("change", load);
  $("#children").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.sort) {
      const key = button.dataset.sort;
      state.order = state.sort === key && state.order === (key === "name" ? "asc" : "desc") ? (key === "name" ? "desc" : "asc") : key === "name" ? "asc" : "desc";
      state.sort = key;
      load();
    } else if (button.dataset.area && [...$("#area").options].some((o) => o.value === button.dataset.area)) {
      $("#area").value = button.dataset.area;
      load();
    }
  });
  $("#export-csv").addEventListener("click", () => download("csv"));
  $("#export-xlsx").addEventListener("click", () => download("xlsx"));
  if (sessionStorage.getItem("eid.access")) start().catch(signOut);
});
