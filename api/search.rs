//! Search that ignores Vietnamese diacritics and case: names and addresses are stored
//! folded ("Nguyễn Văn Ánh" → " nguyen van anh", "Đông" → " dong"), queries are folded the
//! same way, and every word of the query must begin a word of the text: "anh" finds "Ánh"
//! and "Anh Thư" but not "Thanh".

use unicode_normalization::UnicodeNormalization;

/// Lower-case, without combining marks, "đ" as "d", whitespace collapsed.
pub fn fold(text: &str) -> String {
    let stripped: String = text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .collect::<String>()
        .to_lowercase();
    stripped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a text is stored as for search: folded, with a leading space so that every word,
/// the first included, follows a space.
pub fn search_key(text: &str) -> String {
    format!(" {}", fold(text))
}

/// The folded words of a query, each as a `LIKE` pattern matching the start of a word of a
/// `search_key` (wildcards in the input escaped with `\`).
pub fn like_patterns(query: &str) -> Vec<String> {
    fold(query)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|word| {
            let escaped = word
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("% {escaped}%")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_names_fold_to_plain_lower_case() {
        assert_eq!(fold("Nguyễn Văn Ánh"), "nguyen van anh");
        assert_eq!(fold("ĐÔNG  Thị   Hương"), "dong thi huong");
        assert_eq!(
            fold("Số 12, ngõ 3 đường Trần Phú"),
            "so 12, ngo 3 duong tran phu"
        );
        assert_eq!(fold("Phạm Thị Ngọc Ẩn"), "pham thi ngoc an");
    }

    #[test]
    fn query_words_become_escaped_like_patterns() {
        assert_eq!(like_patterns("Nguyen  ánh"), vec!["% nguyen%", "% anh%"]);
        assert_eq!(like_patterns("50%_x"), vec!["% 50\\%\\_x%"]);
        assert_eq!(search_key("Đông Hồ"), " dong ho");
        assert!(like_patterns("   ").is_empty());
    }
}
