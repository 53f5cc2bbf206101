//! Text for a terminal from data anyone may have written (titles, names, descriptions):
//! control characters are shown as escapes, so a bead cannot move the cursor, recolour the
//! screen or fake rows of `list`. JSON output is never escaped this way.

use std::borrow::Cow;

/// One line of output: every control character escaped (`\n`, `\t`, `\r`, `\u{1b}`, …).
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// One line of a multi-line text shown as a block (a description under `show`): tabs
/// stay, every other control character is escaped.
pub fn block_line(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// A setting's value as typed: text as is, lists comma-separated, numbers and bools as
/// JSON writes them (escape the result with [`line`] for output).
pub fn plain_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(plain_value).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
}

fn escape(s: &str, keep_tab: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !(keep_tab && c == '\t');
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_escapes() {
        assert_eq!(line("plain title"), "plain title");
        assert_eq!(line("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(line("\u{1b}[2J red"), "\\u{1b}[2J red");
        assert_eq!(line("c1\u{9b}x"), "c1\\u{9b}x");
        assert_eq!(block_line("code:\tx\u{7}"), "code:\tx\\u{7}");
    }
}
