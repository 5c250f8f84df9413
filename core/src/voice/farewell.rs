//! Whether the caller is saying goodbye ("that's all, thanks", "bye"), so the agent can end a
//! resolved call politely instead of waiting for silence.

const FAREWELLS: [&str; 9] = [
    "bye",
    "goodbye",
    "good bye",
    "that's all",
    "that is all",
    "thats all",
    "nothing else",
    "no thanks",
    "no thank you",
];

/// True when `text` is a short goodbye.
pub fn is_farewell(text: &str) -> bool {
    let lowered: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '\'')
        .collect();
    let words = lowered.split_whitespace().count();
    words <= 8
        && FAREWELLS.iter().any(|f| {
            lowered == *f
                || lowered.starts_with(&format!("{f} "))
                || lowered.ends_with(&format!(" {f}"))
                || lowered.contains(&format!(" {f} "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goodbyes_are_recognised_and_questions_are_not() {
        for bye in [
            "Bye!",
            "No thanks, that's all.",
            "OK, goodbye",
            "nothing else, thank you",
        ] {
            assert!(is_farewell(bye), "{bye}");
        }
        for question in [
            "Where is my order 1004?",
            "Can you tell me about the return policy for the kurta I bought last week, bye the way",
            "byes",
        ] {
            assert!(!is_farewell(question), "{question}");
        }
    }
}
