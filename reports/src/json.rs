//! JSON: an array of row objects with the keys of the CSV header, numbers as numbers,
//! empty as null, an uncounted entitlement as the string "unlimited".

use std::io::Write;

use serde::ser::{SerializeMap, Serializer};

use crate::{COLUMNS, Entitled, Extra, RenderError, Renderer, Row};

pub struct JsonRenderer<W: Write> {
    out: W,
    rows: u64,
    extra: Extra,
}

impl<W: Write> JsonRenderer<W> {
    /// The contract's keys, and `peak_at` after them when `extra` asks for it.
    pub fn new(mut out: W, extra: Extra) -> Result<JsonRenderer<W>, RenderError> {
        out.write_all(b"[")?;
        Ok(JsonRenderer {
            out,
            rows: 0,
            extra,
        })
    }
}

struct JsonRow<'r, 'a>(&'r Row<'a>, Extra);

impl serde::Serialize for JsonRow<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(Some(COLUMNS.len()))?;
        m.serialize_entry("scope", r.scope.as_str())?;
        m.serialize_entry("scope_id", &(!r.scope_id.is_empty()).then_some(r.scope_id))?;
        m.serialize_entry("granularity", r.granularity.as_str())?;
        m.serialize_entry("period_start", r.period_start)?;
        m.serialize_entry("period_end", r.period_end)?;
        m.serialize_entry("item", r.item)?;
        m.serialize_entry("peak_concurrent", &r.peak_concurrent)?;
        m.serialize_entry("enabled_seats", &r.enabled_seats)?;
        match r.entitled {
            None => m.serialize_entry("entitled", &None::<u64>)?,
            Some(Entitled::Seats(n)) => m.serialize_entry("entitled", &n)?,
            Some(Entitled::Unlimited) => m.serialize_entry("entitled", "unlimited")?,
        }
        m.serialize_entry("over_use", &r.over_use)?;
        if self.1.peak_at {
            m.serialize_entry("peak_at", &r.peak_at)?;
        }
        m.end()
    }
}

impl<W: Write> Renderer for JsonRenderer<W> {
    fn row(&mut self, row: &Row<'_>) -> Result<(), RenderError> {
        self.out
            .write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, &JsonRow(row, self.extra))
            .map_err(std::io::Error::from)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), RenderError> {
        self.out.write_all(b"\n]\n")?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_as_objects_with_nulls() {
        let mut buf = Vec::new();
        let mut r: Box<dyn Renderer> =
            Box::new(JsonRenderer::new(&mut buf, Extra::default()).unwrap());
        for row in crate::sample_rows() {
            r.row(&row).unwrap();
        }
        r.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let rows = v.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["scope_id"], serde_json::Value::Null);
        assert_eq!(rows[0]["peak_concurrent"], 1);
        assert_eq!(rows[1]["entitled"], "unlimited");
        assert_eq!(rows[1]["enabled_seats"], serde_json::Value::Null);
        assert_eq!(rows[1]["over_use"], true);
        assert_eq!(rows[2]["entitled"], serde_json::Value::Null);
        let keys: Vec<&str> = rows[0]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut want = COLUMNS.to_vec();
        want.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, want);
        // Keys in header order in the text itself.
        let text = String::from_utf8(buf).unwrap();
        let first = text.lines().nth(1).unwrap();
        let positions: Vec<usize> = COLUMNS
            .iter()
            .map(|k| first.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{first}");
        // Asked for, `peak_at` comes last.
        let mut buf = Vec::new();
        let extra = Extra { peak_at: true };
        let mut r: Box<dyn Renderer> = Box::new(JsonRenderer::new(&mut buf, extra).unwrap());
        for row in crate::sample_rows() {
            r.row(&row).unwrap();
        }
        r.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[0]["peak_at"], "2026-10-25T01:04:05+01:00");
        assert_eq!(v[2]["peak_at"], serde_json::Value::Null);
        let text = String::from_utf8(buf).unwrap();
        let first = text.lines().nth(1).unwrap();
        assert!(
            first
                .trim_end_matches(',')
                .ends_with(r#""peak_at":"2026-10-25T01:04:05+01:00"}"#),
            "{first}"
        );
    }

    #[test]
    fn empty_report_is_an_empty_array() {
        let mut buf = Vec::new();
        let r: Box<dyn Renderer> = Box::new(JsonRenderer::new(&mut buf, Extra::default()).unwrap());
        r.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v, serde_json::json!([]));
    }
}
