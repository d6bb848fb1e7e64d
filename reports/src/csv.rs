//! CSV exactly as section 7 of docs/SEMANTICS.md: its header, one row per (scope, period,
//! item), empty fields for "empty", `unlimited` for an uncounted entitlement. Names that a
//! spreadsheet would take for a formula get a `'` before them (`seatmeter_core::csv_text`).

use std::io::Write;

use seatmeter_core::csv_text;

use crate::{COLUMNS, Extra, RenderError, Renderer, Row};

pub struct CsvRenderer<W: Write> {
    out: csv::Writer<W>,
    extra: Extra,
}

impl<W: Write> CsvRenderer<W> {
    /// The contract's header, and `peak_at` after it when `extra` asks for it.
    pub fn new(out: W, extra: Extra) -> Result<CsvRenderer<W>, RenderError> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .from_writer(out);
        let mut header = COLUMNS.to_vec();
        if extra.peak_at {
            header.push("peak_at");
        }
        out.write_record(header).map_err(into_io)?;
        Ok(CsvRenderer { out, extra })
    }
}

fn into_io(e: csv::Error) -> RenderError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => RenderError::Io(e),
        other => RenderError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

impl<W: Write> Renderer for CsvRenderer<W> {
    fn row(&mut self, r: &Row<'_>) -> Result<(), RenderError> {
        let mut peak = itoa::Buffer::new();
        let mut enabled = itoa::Buffer::new();
        let entitled = r.entitled.map(|e| e.to_string()).unwrap_or_default();
        let (scope_id, item) = (csv_text(r.scope_id), csv_text(r.item));
        let fields = [
            r.scope.as_str(),
            &scope_id,
            r.granularity.as_str(),
            r.period_start,
            r.period_end,
            &item,
            peak.format(r.peak_concurrent),
            r.enabled_seats.map(|n| enabled.format(n)).unwrap_or(""),
            &entitled,
            if r.over_use { "true" } else { "false" },
        ];
        match self.extra.peak_at {
            false => self.out.write_record(fields),
            true => self
                .out
                .write_record(fields.into_iter().chain([r.peak_at.unwrap_or("")])),
        }
        .map_err(into_io)
    }

    fn finish(mut self: Box<Self>) -> Result<(), RenderError> {
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_quoting_and_empty_fields() {
        let mut buf = Vec::new();
        let mut r: Box<dyn Renderer> =
            Box::new(CsvRenderer::new(&mut buf, Extra::default()).unwrap());
        for row in crate::sample_rows() {
            r.row(&row).unwrap();
        }
        r.finish().unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "scope,scope_id,granularity,period_start,period_end,item,peak_concurrent,enabled_seats,entitled,over_use\n\
             system,,hourly,2026-10-25T01:00:00+01:00,2026-10-25T01:00:00+00:00,Voice,1,1,1,false\n\
             tenant,\"Société, \"\"Générale\"\"\",hourly,2026-10-25T00:00:00+01:00,2026-10-25T01:00:00+01:00,E-Mail,2,,unlimited,true\n\
             group,acme/G,hourly,2026-10-25T00:00:00+01:00,2026-10-25T01:00:00+01:00,Chat,0,0,,false\n"
        );
    }

    #[test]
    fn peak_at_is_a_last_column_when_asked_for() {
        let mut buf = Vec::new();
        let extra = Extra { peak_at: true };
        let mut r: Box<dyn Renderer> = Box::new(CsvRenderer::new(&mut buf, extra).unwrap());
        for row in crate::sample_rows() {
            r.row(&row).unwrap();
        }
        r.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with(",over_use,peak_at"), "{text}");
        assert!(
            lines[1].ends_with(",false,2026-10-25T01:04:05+01:00"),
            "{text}"
        );
        assert!(
            lines[3].ends_with(",false,"),
            "a peak of 0 has none: {text}"
        );
    }
}
