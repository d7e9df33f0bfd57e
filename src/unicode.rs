//! The one Unicode table the course needs and the standard library lacks: format characters.
//!
//! Unicode sorts every character into a *general category*. Two of them hold characters that are
//! not shown but *do* something. Control characters (category Cc, such as ESC, which starts the
//! sequences that move a terminal's cursor) `char::is_control` knows. Format characters (category
//! Cf) it does not: U+202E RIGHT-TO-LEFT OVERRIDE makes the text after it display backwards, the
//! bidirectional isolates U+2066..U+2069 reorder it, U+200B ZERO WIDTH SPACE and U+FEFF hide in
//! a word unseen. With them, a message can display in another order than the one it was written
//! in: the "Trojan Source" trick (CVE-2021-42574).

// ANCHOR: format_characters
/// Every format (Cf) character, as inclusive ranges in ascending order: all of the lines marked
/// `Cf` in Unicode's `extracted/DerivedGeneralCategory.txt`. That list is the same in Unicode
/// 16.0, 17.0 (the standard library's version, `char::UNICODE_VERSION`) and 18.0 (the newest):
/// 170 characters. A later version of Unicode may add some: compare this list with its file.
pub const FORMAT_CHARACTERS: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),   // SOFT HYPHEN
    ('\u{0600}', '\u{0605}'),   // ARABIC NUMBER SIGN..ARABIC NUMBER MARK ABOVE
    ('\u{061C}', '\u{061C}'),   // ARABIC LETTER MARK
    ('\u{06DD}', '\u{06DD}'),   // ARABIC END OF AYAH
    ('\u{070F}', '\u{070F}'),   // SYRIAC ABBREVIATION MARK
    ('\u{0890}', '\u{0891}'),   // ARABIC POUND MARK ABOVE..ARABIC PIASTRE MARK ABOVE
    ('\u{08E2}', '\u{08E2}'),   // ARABIC DISPUTED END OF AYAH
    ('\u{180E}', '\u{180E}'),   // MONGOLIAN VOWEL SEPARATOR
    ('\u{200B}', '\u{200F}'),   // ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    ('\u{202A}', '\u{202E}'),   // LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    ('\u{2060}', '\u{2064}'),   // WORD JOINER..INVISIBLE PLUS
    ('\u{2066}', '\u{206F}'),   // LEFT-TO-RIGHT ISOLATE..NOMINAL DIGIT SHAPES
    ('\u{FEFF}', '\u{FEFF}'),   // ZERO WIDTH NO-BREAK SPACE (the byte order mark)
    ('\u{FFF9}', '\u{FFFB}'),   // INTERLINEAR ANNOTATION ANCHOR..TERMINATOR
    ('\u{110BD}', '\u{110BD}'), // KAITHI NUMBER SIGN
    ('\u{110CD}', '\u{110CD}'), // KAITHI NUMBER SIGN ABOVE
    ('\u{13430}', '\u{1343F}'), // EGYPTIAN HIEROGLYPH VERTICAL JOINER..END WALLED ENCLOSURE
    ('\u{1BCA0}', '\u{1BCA3}'), // SHORTHAND FORMAT LETTER OVERLAP..SHORTHAND FORMAT UP STEP
    ('\u{1D173}', '\u{1D17A}'), // MUSICAL SYMBOL BEGIN BEAM..MUSICAL SYMBOL END PHRASE
    ('\u{E0001}', '\u{E0001}'), // LANGUAGE TAG
    ('\u{E0020}', '\u{E007F}'), // TAG SPACE..CANCEL TAG
];

/// Whether `c` is a format character (Unicode category Cf).
pub fn is_format(c: char) -> bool {
    // The ranges are sorted and do not overlap, so a binary search finds the one that could
    // hold `c`.
    FORMAT_CHARACTERS
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}
// ANCHOR_END: format_characters

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_holds_170_characters() {
        let mut count = 0;
        for (index, &(first, last)) in FORMAT_CHARACTERS.iter().enumerate() {
            assert!(first <= last, "range {index} runs backwards");
            if let Some(&(next, _)) = FORMAT_CHARACTERS.get(index + 1) {
                assert!(
                    u32::from(last) + 1 < u32::from(next),
                    "{index}: unsorted or touching"
                );
            }
            count += u32::from(last) - u32::from(first) + 1;
        }
        assert_eq!(count, 170);
    }

    #[test]
    fn the_standard_library_agrees_that_none_is_printable() {
        // `escape_debug` writes `\u{...}` for what the standard library's own Unicode tables
        // call unprintable, which includes every format character: so a typo in the table
        // that lands on a printable character shows up here.
        for &(first, last) in &FORMAT_CHARACTERS {
            for c in first..=last {
                let escaped = c.escape_debug().to_string();
                assert!(
                    escaped.starts_with("\\u{"),
                    "U+{:04X} is printable",
                    u32::from(c)
                );
            }
        }
    }

    #[test]
    fn finds_the_ends_of_ranges_and_nothing_around_them() {
        for c in [
            '\u{AD}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{61C}',
            '\u{FEFF}',
            '\u{E007F}',
        ] {
            assert!(is_format(c), "U+{:04X}", u32::from(c));
        }
        for c in [
            'a',
            '\u{AC}',
            '\u{AE}',
            '\u{2065}',
            '\u{2070}',
            '\u{FFFD}',
            '\u{E0080}',
            '\0',
        ] {
            assert!(!is_format(c), "U+{:04X}", u32::from(c));
        }
    }
}
