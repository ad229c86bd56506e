//! The profile names closest to a value that matched none, so a typo in Procore is reported
//! with what was probably meant.
//!
//! Twenty lines of Levenshtein distance, not a crate: the lists are a few dozen short names.

/// Levenshtein distance in characters (insertions, deletions and substitutions cost 1).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Up to `n` names closest to `value`, nearest first, ties by name. Case is ignored when
/// ranking (a name differing only in case is the likeliest intent), never when matching.
pub fn closest<'a>(value: &str, names: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<String> {
    let value = value.trim().to_lowercase();
    let mut ranked: Vec<(usize, &str)> = names
        .into_iter()
        .map(|name| (edit_distance(&value, &name.to_lowercase()), name))
        .collect();
    ranked.sort();
    ranked.dedup();
    ranked
        .into_iter()
        .take(n)
        .map(|(_, name)| name.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_single_character_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("Standard", "Standard"), 0);
        assert_eq!(edit_distance("Standrad", "Standard"), 2);
    }

    #[test]
    fn the_closest_names_come_first_and_ties_go_by_name() {
        let names = [
            "Standard Sub",
            "Standard Supplier",
            "High Rise",
            "Standard Subs",
        ];
        assert_eq!(
            closest("standard sub ", names, 2),
            ["Standard Sub", "Standard Subs"]
        );
    }
}
