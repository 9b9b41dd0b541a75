//! Text renderings of results for the terminal and for files: the summary table, aligned
//! text tables and CSV. Used by `report` and by the CLI (`query`, `runs`, `show`).

use super::summary::{Group, Summary};
use crate::config::sweep::HeadlineMetric;
use crate::store::{Cell, QueryResult};

/// The header of the interval column.
pub(super) const AUC_CI: &str = "AUC-ROC 95% CI";

/// The summary as an aligned text table, `mean ± std` per metric.
pub fn format_table(summary: &Summary) -> String {
    let mut header: Vec<String> = summary
        .axes
        .iter()
        .map(|a| a.rsplit('.').next().unwrap_or(a).to_string())
        .collect();
    header.push("runs".into());
    header.extend(
        HeadlineMetric::ALL
            .iter()
            .map(|m| format!("test {}", m.as_str())),
    );
    header.push(AUC_CI.into());
    let rows: Vec<Vec<String>> = summary.groups.iter().map(Group::cells).collect();
    let mut out = text_table(&header, &rows);
    if !summary.protocols.is_empty() {
        out.push_str(&format!(
            "\n(protocol: {}; mean ± sample std over seeds and folds; {AUC_CI}: Student t over ≥ 3 runs, a single run's bootstrap over its test windows)",
            summary.protocols.join(", ")
        ));
    }
    out
}

/// Right-aligned columns under a header and a rule.
pub fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(header);
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)));
    for row in rows {
        out.push('\n');
        out.push_str(&line(row));
    }
    out
}

/// A query result as CSV (RFC 4180 quoting; NULL as an empty field).
pub fn to_csv(result: &QueryResult) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = result
        .columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in &result.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Null => String::new(),
                other => quote(&cell_text(other)),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A cell as text, as tables show it.
pub fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Null => "NULL".into(),
        Cell::Int(i) => i.to_string(),
        Cell::Real(f) => format!("{f}"),
        Cell::Text(s) => s.clone(),
        Cell::Blob(n) => format!("<blob {n} bytes>"),
    }
}
