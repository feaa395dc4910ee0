//! Character classes of XML 1.0 (fifth edition) and Namespaces in XML.

/// Whether XML 1.0 can carry `c` at all (production `Char`).
///
/// Everything else — most C0 controls, U+FFFE and U+FFFF — cannot appear in a document,
/// not even as a character reference. (Surrogates cannot occur in a Rust `char`.)
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `s` that XML cannot carry, if any.
///
/// Works on bytes: only C0 controls and the three-byte sequences of U+FFFE/U+FFFF need a look,
/// so the common case is a tight loop.
pub fn first_forbidden(s: &str) -> Option<char> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r') {
            return Some(char::from(c));
        }
        if c == 0xEF
            && i + 2 < b.len()
            && b[i + 1] == 0xBF
            && (b[i + 2] == 0xBE || b[i + 2] == 0xBF)
        {
            return Some(if b[i + 2] == 0xBE {
                '\u{FFFE}'
            } else {
                '\u{FFFF}'
            });
        }
        i += 1;
    }
    None
}

fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Whether `s` is an `NCName`: an XML name without a colon, as element and attribute local
/// names must be.
pub fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start(c) => chars.all(is_name_char),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_chars() {
        assert!(is_xml_char('a') && is_xml_char('\t') && is_xml_char('\u{10FFFF}'));
        assert!(!is_xml_char('\0') && !is_xml_char('\u{1B}') && !is_xml_char('\u{FFFE}'));
        assert!(!is_xml_char('\u{FFFF}'));
    }

    #[test]
    fn forbidden_scan() {
        assert_eq!(first_forbidden("plain text\r\n\tcafé"), None);
        assert_eq!(first_forbidden("a\u{0}b"), Some('\0'));
        assert_eq!(first_forbidden("x\u{FFFF}"), Some('\u{FFFF}'));
        assert_eq!(first_forbidden("x\u{FFFE}"), Some('\u{FFFE}'));
        assert_eq!(first_forbidden("\u{FFFD}\u{FEFF}"), None);
    }

    #[test]
    fn names() {
        assert!(is_ncname("message") && is_ncname("_x-1.2") && is_ncname("café"));
        assert!(!is_ncname("") && !is_ncname("1a") && !is_ncname("a:b") && !is_ncname("a b"));
        assert!(!is_ncname("-a"));
    }
}
