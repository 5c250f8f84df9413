//! Whisper's output tokens back to text. The vocabulary is GPT-2's byte-level BPE: each token is
//! a run of bytes, each byte written as one printable character (`Ġ` for a space, …). Special
//! tokens (`<|endoftext|>`, timestamps, languages) are dropped.

/// The text of a generated token sequence.
pub fn text_of<S: AsRef<str>>(tokens: &[S]) -> String {
    let mut bytes = Vec::new();
    for token in tokens {
        let token = token.as_ref();
        if token.starts_with("<|") && token.ends_with("|>") {
            continue;
        }
        bytes.extend(token.chars().filter_map(byte_of));
    }
    String::from_utf8_lossy(&bytes)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bytes GPT-2 writes as the character of the same code point.
fn prints_as_itself(byte: u32) -> bool {
    (33..=126).contains(&byte) || (161..=172).contains(&byte) || (174..=255).contains(&byte)
}

/// The byte a vocabulary character stands for: printable bytes are themselves; the others
/// (controls, space, …) were moved, in order, to code points from 256.
fn byte_of(c: char) -> Option<u8> {
    let code = c as u32;
    if code < 256 {
        return prints_as_itself(code).then_some(code as u8);
    }
    (0..256u32)
        .filter(|&b| !prints_as_itself(b))
        .nth((code - 256) as usize)
        .map(|b| b as u8)
}

#[cfg(test)]
mod tests {
    use super::text_of;

    #[test]
    fn byte_level_tokens_become_text() {
        assert_eq!(
            text_of(&[
                "ĠWhere",
                "Ġis",
                "Ġmy",
                "Ġorder",
                "Ġ100",
                "4",
                "?",
                "<|endoftext|>"
            ]),
            "Where is my order 1004?"
        );
        // "é" is two bytes, each its own character in the vocabulary; a newline is "Ċ".
        assert_eq!(text_of(&["Ġcaf", "Ã©", "Ċ", "ok"]), "café ok");
        assert_eq!(text_of(&["<|0.00|>", "<|en|>"]), "");
    }
}
