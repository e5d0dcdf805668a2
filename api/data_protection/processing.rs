//! `GET /api/v1/data-protection/processing-record`: what this system collects about whom,
//! why, who sees it, how long it is kept and how it is protected — the record of processing
//! a ward keeps for its impact assessment (Law 91/2025/QH15, Articles 21–22). It describes
//! what the code does; when the code changes, this changes with it.

use actix_web::{get, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::law::{RequestKind, ACKNOWLEDGE_BASIS, ACKNOWLEDGE_WORKING_DAYS, BREACH_REPORT_HOURS};
use crate::auth::Caller;
use crate::i18n::{Lang, Text};
use crate::problem::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessingActivity {
    pub name: String,
    pub purpose: String,
    pub data_subjects: String,
    pub data: Vec<String>,
    pub legal_basis: String,
    pub who_sees_it: String,
    pub retention: String,
    pub safeguards: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDeadline {
    pub kind: RequestKind,
    pub days: u64,
    pub extension_days: Option<u64>,
    pub basis: String,
    pub verified: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessingRecord {
    /// The law in force.
    pub law: String,
    pub activities: Vec<ProcessingActivity>,
    /// Working days to acknowledge a data subject's request.
    pub acknowledge_working_days: u32,
    pub acknowledge_basis: String,
    /// How long each kind of request may take.
    pub request_deadlines: Vec<RequestDeadline>,
    /// Hours from discovering a breach to notifying the specialised agency.
    pub breach_report_hours: i64,
}

struct Activity {
    name: Text,
    purpose: Text,
    subjects: Text,
    data: &'static [Text],
    basis: Text,
    who: Text,
    retention: Text,
    safeguards: Text,
}

const ACTIVITIES: &[Activity] = &[
    Activity {
        name: Text::new("Danh sách hộ và nhân khẩu", "Households and residents"),
        purpose: Text::new(
            "Hỗ trợ người dân kích hoạt định danh điện tử và chữ ký số; đo tỷ lệ theo chỉ tiêu của kế hoạch",
            "Helping residents activate their e-ID and signature; measuring the rates against the plan's targets",
        ),
        subjects: Text::new("Người dân trong hộ của địa bàn", "Residents of the area's households"),
        data: &[
            Text::new("Họ tên", "Full name"),
            Text::new("Ngày sinh (hoặc năm sinh)", "Birth date (or year)"),
            Text::new("Giới tính, quan hệ với chủ hộ", "Sex, relation to the household head"),
            Text::new("Địa chỉ hộ, số điện thoại chủ hộ (không bắt buộc)", "Household address, head's phone (optional)"),
            Text::new("Mã băm có khóa và 4 số cuối CCCD (không lưu số đầy đủ)", "Keyed hash and last 4 digits of the citizen ID (never the full number)"),
            Text::new("Tình trạng định danh, chữ ký số, cáp quang và ngày hiệu lực", "e-ID, signature and fibre status with the day each became true"),
            Text::new("Sự đồng ý và thời điểm ghi nhận", "Consent and when it was recorded"),
        ],
        basis: Text::new(
            "Sự đồng ý của chủ thể dữ liệu (Luật 91/2025/QH15, Điều 9) và nhiệm vụ của chính quyền theo kế hoạch chuyển đổi số",
            "The data subject's consent (Law 91/2025/QH15, Article 9) and the authority's task under the digital-transformation plan",
        ),
        who: Text::new(
            "Trưởng khu phố và tình nguyện viên được phân công của khu phố; quản trị viên. Cán bộ chỉ thấy số tổng hợp",
            "The neighbourhood's head and assigned volunteers; administrators. Officials see aggregates only",
        ),
        retention: Text::new(
            "Đến khi người đó yêu cầu xóa hoặc hộ bị xóa; khi xóa theo yêu cầu, họ tên, ngày và tháng sinh, mã CCCD bị xóa, chỉ giữ năm sinh, giới tính và các sự kiện để số liệu tổng hợp không đổi",
            "Until the person asks for erasure or the household is deleted; on erasure the name, birth day and month and citizen-ID data go, keeping only the birth year, sex and events so that the aggregates stay consistent",
        ),
        safeguards: Text::new(
            "Mọi truy cập theo phạm vi địa bàn; mọi lần đọc danh sách, xuất và sửa đều ghi nhật ký (tên trường, không ghi giá trị); điện thoại khóa dữ liệu khi đăng xuất",
            "Every query scoped to the caller's area; every list read, export and change audited (field names, never values); phones wipe their data on sign-out",
        ),
    },
    Activity {
        name: Text::new("Lần thăm hộ", "Visits"),
        purpose: Text::new("Tổ chức việc đến từng nhà", "Organising the door-to-door work"),
        subjects: Text::new("Hộ gia đình; tình nguyện viên", "Households; volunteers"),
        data: &[
            Text::new("Ngày giờ, kết quả thăm, ghi chú", "Time, outcome, notes"),
            Text::new("Tình nguyện viên đã thăm", "The volunteer who visited"),
        ],
        basis: Text::new("Như trên", "As above"),
        who: Text::new("Như danh sách hộ", "As for households"),
        retention: Text::new("Cùng hộ gia đình", "With the household"),
        safeguards: Text::new("Như trên", "As above"),
    },
    Activity {
        name: Text::new("Tài khoản người dùng", "User accounts"),
        purpose: Text::new("Đăng nhập và phân quyền", "Signing in and permissions"),
        subjects: Text::new("Tình nguyện viên, trưởng khu phố, cán bộ, quản trị viên", "Volunteers, heads, officials, administrators"),
        data: &[
            Text::new("Họ tên, thư điện tử hoặc số điện thoại", "Name, e-mail or phone"),
            Text::new("Mật khẩu (chỉ lưu mã băm argon2id)", "Password (argon2id hash only)"),
            Text::new("Phiên đăng nhập, thiết bị, địa chỉ IP trong nhật ký", "Sessions, devices, IP address in the audit log"),
        ],
        basis: Text::new("Thực hiện nhiệm vụ được giao", "Carrying out the assigned task"),
        who: Text::new("Quản trị viên; trưởng khu phố với tình nguyện viên của mình", "Administrators; heads for their volunteers"),
        retention: Text::new("Đến khi tài khoản bị vô hiệu hóa; nhật ký được giữ lâu dài", "Until the account is disabled; the audit log is kept long-term"),
        safeguards: Text::new("Mã truy cập ngắn hạn, giới hạn số lần đăng nhập sai", "Short-lived access tokens, throttled sign-in"),
    },
    Activity {
        name: Text::new("Chốt số liệu và báo cáo", "Sign-offs and reports"),
        purpose: Text::new(
            "Báo cáo số liệu tổng hợp lên cấp trên và giữ lại số đã báo cáo",
            "Reporting aggregate figures upwards and keeping what was reported",
        ),
        subjects: Text::new("Cán bộ, trưởng khu phố đã chốt hoặc mở lại", "Officials and heads who signed or reopened"),
        data: &[
            Text::new("Số liệu tổng hợp (không có tên người dân)", "Aggregate figures (no residents' names)"),
            Text::new("Tên người chốt, người mở lại, lý do, thời điểm", "Who signed or reopened, the reason, when"),
        ],
        basis: Text::new("Thực hiện nhiệm vụ được giao", "Carrying out the assigned task"),
        who: Text::new("Cán bộ, trưởng khu phố và quản trị viên của địa bàn và cấp trên", "Officials, heads and administrators of the area and above"),
        retention: Text::new("Lâu dài: số đã báo cáo không bao giờ bị thay đổi", "Long-term: what was reported is never changed"),
        safeguards: Text::new("Ghi nhật ký việc chốt và mở lại", "Signing and reopening audited"),
    },
    Activity {
        name: Text::new("Yêu cầu của chủ thể dữ liệu và sự cố", "Data subjects' requests and breaches"),
        purpose: Text::new("Thực hiện quyền của người dân và nghĩa vụ thông báo", "Honouring people's rights and the duty to notify"),
        subjects: Text::new("Người có yêu cầu; người bị ảnh hưởng", "Requesters; people affected"),
        data: &[
            Text::new("Loại yêu cầu, ngày nhận, hạn, kết quả", "Kind, day received, deadlines, outcome"),
            Text::new("Mô tả sự cố và loại dữ liệu liên quan", "Breach description and categories of data"),
        ],
        basis: Text::new("Nghĩa vụ theo Luật 91/2025/QH15 và Nghị định 356/2025/NĐ-CP", "Duties under Law 91/2025/QH15 and Decree 356/2025/NĐ-CP"),
        who: Text::new("Trưởng khu phố và quản trị viên của địa bàn", "The area's heads and administrators"),
        retention: Text::new(
            "Lâu dài, làm bằng chứng tuân thủ; khi xóa dữ liệu của người yêu cầu, nội dung yêu cầu cũng bị xóa",
            "Long-term, as evidence of compliance; erasing the requester's data erases what the request said",
        ),
        safeguards: Text::new("Ghi nhật ký mọi bước", "Every step audited"),
    },
];

/// The record of processing: what is collected, why, who sees it, how long it is kept
#[utoipa::path(
    tag = "data-protection",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record, in the request's language", body = ProcessingRecord),
    )
)]
#[get("/data-protection/processing-record")]
pub async fn processing_record(
    req: HttpRequest,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::from_headers(req.headers());
    let text = |t: &Text| t.get(lang).to_owned();
    Ok(HttpResponse::Ok().json(ProcessingRecord {
        law: format!("{}; {}", super::law::LAW, super::law::DECREE),
        activities: ACTIVITIES
            .iter()
            .map(|a| ProcessingActivity {
                name: text(&a.name),
                purpose: text(&a.purpose),
                data_subjects: text(&a.subjects),
                data: a.data.iter().map(text).collect(),
                legal_basis: text(&a.basis),
                who_sees_it: text(&a.who),
                retention: text(&a.retention),
                safeguards: text(&a.safeguards),
            })
            .collect(),
        acknowledge_working_days: ACKNOWLEDGE_WORKING_DAYS,
        acknowledge_basis: ACKNOWLEDGE_BASIS.to_owned(),
        request_deadlines: RequestKind::ALL
            .iter()
            .map(|&kind| {
                let d = kind.deadline();
                RequestDeadline {
                    kind,
                    days: d.days,
                    extension_days: d.extension_days,
                    basis: d.basis.to_owned(),
                    verified: d.verified,
                }
            })
            .collect(),
        breach_report_hours: BREACH_REPORT_HOURS,
    }))
}
