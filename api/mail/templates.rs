//! The e-mails the product sends, in Vietnamese and English (the recipient's language), as
//! plain text and HTML, naming the product and the recipient's ward.

use crate::i18n::Lang;

use super::Email;

pub const PRODUCT_VI: &str = "Phổ cập định danh điện tử và chữ ký số";
pub const PRODUCT_EN: &str = "e-ID and digital-signature adoption";

/// What every message says about where it comes from.
pub struct Context<'a> {
    pub lang: Lang,
    pub to: &'a str,
    pub recipient_name: &'a str,
    /// The recipient's ward (or their area when it sits above ward level).
    pub ward: &'a str,
}

pub fn invitation(ctx: &Context, inviter: &str, role: &str, link: &str, valid_hours: u64) -> Email {
    let (subject, lines) = match ctx.lang {
        Lang::Vi => (
            format!("Lời mời tham gia {PRODUCT_VI} — {}", ctx.ward),
            vec![
                format!("Chào {},", ctx.recipient_name),
                format!(
                    "{inviter} mời bạn tham gia {PRODUCT_VI} của {} với vai trò {}.",
                    ctx.ward,
                    role_vi(role)
                ),
                "Mở liên kết dưới đây để đặt mật khẩu và bắt đầu:".to_owned(),
                link.to_owned(),
                format!("Liên kết chỉ dùng được một lần và hết hạn sau {valid_hours} giờ."),
                "Nếu bạn không mong đợi thư này, hãy bỏ qua nó.".to_owned(),
            ],
        ),
        Lang::En => (
            format!("Invitation to {PRODUCT_EN} — {}", ctx.ward),
            vec![
                format!("Hello {},", ctx.recipient_name),
                format!(
                    "{inviter} invites you to {PRODUCT_EN} in {} as {}.",
                    ctx.ward,
                    role_en(role)
                ),
                "Open the link below to set your password and get started:".to_owned(),
                link.to_owned(),
                format!("The link works once and expires in {valid_hours} hours."),
                "If you did not expect this message, ignore it.".to_owned(),
            ],
        ),
    };
    render(ctx, subject, &lines, link)
}

pub fn password_reset(ctx: &Context, link: &str, valid_minutes: u64) -> Email {
    let (subject, lines) = match ctx.lang {
        Lang::Vi => (
            format!("Đặt lại mật khẩu — {PRODUCT_VI}, {}", ctx.ward),
            vec![
                format!("Chào {},", ctx.recipient_name),
                "Có yêu cầu đặt lại mật khẩu cho tài khoản của bạn.".to_owned(),
                "Mở liên kết dưới đây để chọn mật khẩu mới:".to_owned(),
                link.to_owned(),
                format!(
                    "Liên kết chỉ dùng được một lần và hết hạn sau {valid_minutes} phút. \
                     Khi đổi mật khẩu, mọi thiết bị đang đăng nhập sẽ bị đăng xuất."
                ),
                "Nếu không phải bạn yêu cầu, hãy bỏ qua thư này; mật khẩu không đổi.".to_owned(),
            ],
        ),
        Lang::En => (
            format!("Password reset — {PRODUCT_EN}, {}", ctx.ward),
            vec![
                format!("Hello {},", ctx.recipient_name),
                "Someone asked to reset the password of your account.".to_owned(),
                "Open the link below to choose a new password:".to_owned(),
                link.to_owned(),
                format!(
                    "The link works once and expires in {valid_minutes} minutes. Changing \
                     the password signs out every device."
                ),
                "If it was not you, ignore this message; your password stays the same.".to_owned(),
            ],
        ),
    };
    render(ctx, subject, &lines, link)
}

pub(crate) fn render(ctx: &Context, subject: String, lines: &[String], link: &str) -> Email {
    let signature = match ctx.lang {
        Lang::Vi => format!("— {PRODUCT_VI}, {}", ctx.ward),
        Lang::En => format!("— {PRODUCT_EN}, {}", ctx.ward),
    };
    let text = format!("{}\n\n{signature}\n", lines.join("\n\n"));
    let paragraphs: String = lines
        .iter()
        .map(|line| {
            if line == link {
                format!(
                    "<p><a href=\"{0}\" style=\"font-size:18px\">{0}</a></p>",
                    escape_html(line)
                )
            } else {
                format!("<p>{}</p>", escape_html(line))
            }
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;font-size:16px;line-height:1.5\">{paragraphs}\
         <p style=\"color:#555\">{}</p></body></html>",
        ctx.lang.as_str(),
        escape_html(&subject),
        escape_html(&signature)
    );
    Email {
        to: ctx.to.to_owned(),
        subject,
        text,
        html,
    }
}

fn role_vi(role: &str) -> &'static str {
    match role {
        "admin" => "quản trị viên",
        "official" => "cán bộ",
        "head" => "trưởng khu phố",
        _ => "tình nguyện viên",
    }
}

fn role_en(role: &str) -> &'static str {
    match role {
        "admin" => "an administrator",
        "official" => "an official",
        "head" => "a neighbourhood head",
        _ => "a volunteer",
    }
}

pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(lang: Lang) -> Context<'static> {
        Context {
            lang,
            to: "a@b.vn",
            recipient_name: "Nguyễn <Văn> Ánh",
            ward: "Phú Sơn",
        }
    }

    #[test]
    fn an_invitation_names_the_product_the_ward_and_the_link_in_both_forms() {
        let email = invitation(
            &ctx(Lang::Vi),
            "Trưởng KP1",
            "volunteer",
            "https://x/i?token=abc",
            72,
        );
        assert!(email.subject.contains("Phú Sơn"));
        assert!(email.text.contains("https://x/i?token=abc"));
        assert!(email.text.contains("tình nguyện viên"));
        assert!(email.html.contains("href=\"https://x/i?token=abc\""));
        assert!(
            email.html.contains("Nguyễn &lt;Văn&gt; Ánh"),
            "names are escaped in HTML"
        );
        let english = invitation(&ctx(Lang::En), "Head", "volunteer", "https://x", 72);
        assert!(english.subject.starts_with("Invitation"));
    }

    #[test]
    fn a_reset_mail_says_how_long_the_link_lives() {
        let email = password_reset(&ctx(Lang::En), "https://x/r?token=t", 60);
        assert!(email.text.contains("60 minutes"));
        assert!(email.html.starts_with("<!DOCTYPE html>"));
    }
}
