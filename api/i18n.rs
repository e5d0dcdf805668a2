//! The language of a response: Vietnamese by default, English when the client prefers it
//! (`Accept-Language`, honouring q-values). User-facing text is always written in both.

use std::borrow::Cow;

use actix_web::http::header::{HeaderMap, ACCEPT_LANGUAGE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        match tag.trim().to_ascii_lowercase().split(['-', '_']).next() {
            Some("vi") => Some(Lang::Vi),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The supported language the client ranks highest; Vietnamese when it names neither.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(value) = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::Vi;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in value.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang).unwrap_or(Lang::Vi)
    }
}

/// A text in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub vi: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Text {
    pub const fn new(vi: &'static str, en: &'static str) -> Text {
        Text {
            vi: Cow::Borrowed(vi),
            en: Cow::Borrowed(en),
        }
    }

    pub fn owned(vi: String, en: String) -> Text {
        Text {
            vi: Cow::Owned(vi),
            en: Cow::Owned(en),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// A response body rendered in each language, carried in the response's extensions by an
/// answer whose body holds user-facing text (problems, a push's rejections). The answer
/// stored for an `Idempotency-Key` keeps both, so a resend asking in the other language is
/// answered in it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Localized {
    pub vi: String,
    pub en: String,
}

impl Localized {
    /// Renders `body` once per language.
    pub fn render<E>(mut body: impl FnMut(Lang) -> Result<String, E>) -> Result<Localized, E> {
        Ok(Localized {
            vi: body(Lang::Vi)?,
            en: body(Lang::En)?,
        })
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn lang_of(value: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(value).unwrap());
        Lang::from_headers(&headers)
    }

    #[test]
    fn vietnamese_is_the_default() {
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::Vi);
        assert_eq!(lang_of("fr-FR"), Lang::Vi);
    }

    #[test]
    fn english_is_chosen_when_preferred() {
        assert_eq!(lang_of("en"), Lang::En);
        assert_eq!(lang_of("en-US,en;q=0.9"), Lang::En);
        assert_eq!(lang_of("fr, en;q=0.8, vi;q=0.5"), Lang::En);
        assert_eq!(lang_of("en;q=0.4, vi;q=0.9"), Lang::Vi);
    }
}
