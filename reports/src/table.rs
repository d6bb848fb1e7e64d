//! A table for the terminal: one line per row, over-use marked in words (and in red when
//! the output is a terminal that shows colour).

use std::io::Write;

use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

use crate::{RenderError, Renderer, Row};

pub struct TableRenderer<W: Write> {
    out: W,
    table: Table,
    color: bool,
    rows: u64,
}

impl<W: Write> TableRenderer<W> {
    /// `color`: mark over-use in red as well as in words.
    pub fn new(out: W, color: bool) -> TableRenderer<W> {
        let mut table = Table::new();
        table
            .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(
                [
                    "scope",
                    "period start",
                    "period end",
                    "item",
                    "peak",
                    "peak at",
                    "enabled",
                    "entitled",
                    "over-use",
                ]
                .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
            );
        for col in [4, 6, 7] {
            if let Some(c) = table.column_mut(col) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        TableRenderer {
            out,
            table,
            color,
            rows: 0,
        }
    }
}

impl<W: Write> Renderer for TableRenderer<W> {
    fn row(&mut self, r: &Row<'_>) -> Result<(), RenderError> {
        let scope = if r.scope_id.is_empty() {
            r.scope.as_str().to_string()
        } else {
            r.scope_id.to_string()
        };
        let mut over = Cell::new(if r.over_use { "OVER-USE" } else { "" });
        if r.over_use && self.color {
            over = over.fg(Color::Red).add_attribute(Attribute::Bold);
        }
        let dash = || "-".to_string();
        self.table.add_row(vec![
            Cell::new(scope),
            Cell::new(r.period_start),
            Cell::new(r.period_end),
            Cell::new(r.item),
            Cell::new(r.peak_concurrent),
            Cell::new(
                r.peak_at
                    .map(|t| t.replacen('T', " ", 1))
                    .unwrap_or_else(dash),
            ),
            Cell::new(r.enabled_seats.map(|n| n.to_string()).unwrap_or_else(dash)),
            Cell::new(r.entitled.map(|e| e.to_string()).unwrap_or_else(dash)),
            over,
        ]);
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), RenderError> {
        if !self.color {
            self.table.force_no_tty();
        }
        writeln!(self.out, "{}", self.table)?;
        writeln!(
            self.out,
            "{} row(s); \"-\" means no data (no configuration snapshot yet, or no license line for the item)",
            self.rows
        )?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_over_use_in_words() {
        let mut buf = Vec::new();
        let mut r: Box<dyn Renderer> = Box::new(TableRenderer::new(&mut buf, false));
        for row in crate::sample_rows() {
            r.row(&row).unwrap();
        }
        r.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        let over: Vec<&str> = text.lines().filter(|l| l.contains("OVER-USE")).collect();
        assert_eq!(over.len(), 1, "{text}");
        assert!(over[0].contains("E-Mail") && over[0].contains("unlimited"));
        assert!(text.contains("Société, \"Générale\""));
        assert!(text.contains("3 row(s)"));
        assert!(
            !text.contains('\u{1b}'),
            "no colour codes when colour is off"
        );
    }
}
