//! Expression errors: always about one expression, with the reason.

/// Why an expression cannot be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{expression:?}: {reason}")]
pub struct ExprError {
    /// The expression's text.
    pub expression: String,
    pub reason: String,
}

impl ExprError {
    pub fn new(expression: &str, reason: impl Into<String>) -> Self {
        ExprError {
            expression: expression.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The closest name within edit distance 2 (case-insensitive), for "did you mean" hints.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let columns = ["purchase_price", "merchant", "user_id"];
        assert_eq!(
            did_you_mean("purchase_prise", columns),
            Some("purchase_price")
        );
        assert_eq!(did_you_mean("MERCHANT", columns), Some("merchant"));
        assert_eq!(did_you_mean("zzz", columns), None);
    }
}
