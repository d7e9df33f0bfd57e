//! A line diff small enough to read: transcripts are a few dozen lines, so the textbook
//! longest-common-subsequence table is plenty fast.

/// Shows `want` against `got`: `  ` for a shared line, `- ` for a line only in `want`, `+ ` for
/// one only in `got`. Of the `want` lines after the last line of `got`, which a run that stopped
/// early never reached, only the first `tail` are shown.
pub fn lines(want: &[&str], got: &[&str], tail: usize) -> String {
    // common[i][j] = length of the longest common subsequence of want[i..] and got[j..].
    let mut common = vec![vec![0usize; got.len() + 1]; want.len() + 1];
    for i in (0..want.len()).rev() {
        for j in (0..got.len()).rev() {
            common[i][j] = if want[i] == got[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < want.len() || j < got.len() {
        if i < want.len() && j < got.len() && want[i] == got[j] {
            out.push_str(&format!("    {}\n", want[i]));
            i += 1;
            j += 1;
        } else if j < got.len() && (i == want.len() || common[i][j + 1] >= common[i + 1][j]) {
            out.push_str(&format!("  + {}\n", got[j]));
            j += 1;
        } else if j == got.len() && want.len() - i > tail {
            for line in &want[i..i + tail] {
                out.push_str(&format!("  - {line}\n"));
            }
            out.push_str(&format!(
                "  - ... and {} more lines\n",
                want.len() - i - tail
            ));
            break;
        } else {
            out.push_str(&format!("  - {}\n", want[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn shows_what_changed() {
        let want = ["a", "b", "c"];
        let got = ["a", "x", "c"];
        assert_eq!(lines(&want, &got, 3), "    a\n  + x\n  - b\n    c\n");
    }

    #[test]
    fn a_run_that_stopped_early_shows_the_rest_as_missing() {
        let want = ["a", "b", "c"];
        let got = ["a", "stopped"];
        assert_eq!(lines(&want, &got, 3), "    a\n  + stopped\n  - b\n  - c\n");
    }

    #[test]
    fn a_long_missing_tail_is_cut_short() {
        let want = ["a", "b", "c", "d", "e"];
        let got = ["a", "stopped"];
        assert_eq!(
            lines(&want, &got, 2),
            "    a\n  + stopped\n  - b\n  - c\n  - ... and 2 more lines\n"
        );
    }
}
