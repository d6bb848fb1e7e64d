//! CSV exactly as section 7 of docs/SEMANTICS.md: its header, one row per (scope, period,
//! item), empty fields for "empty", `unlimited` for an uncounted entitlement. Names that a
//! spreadsheet would take for a formula get a `'` before them (`seatmeter_core::csv_text`).

use std::io::Write;

use seatmeter_core::csv_text;

use crate::{COLUMNS, RenderError, Renderer, Row};

pub struct CsvRenderer<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvRenderer<W> {
    pub fn new(out: W) -> Result<CsvRenderer<W>, RenderError> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        out.write_record(COLUMNS).map_err(into_io)?;
        Ok(CsvRenderer { out })
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
        self.out
            .write_record([
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
            ])
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
        let mut r: Box<dyn Renderer> = Box::new(CsvRenderer::new(&mut buf).unwrap());
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
}
