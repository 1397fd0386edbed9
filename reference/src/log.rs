//! Structured event logs on stderr: one line per event, as text
//! (`event key=value ...`) or as a JSON object (`--log json`).

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// How events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
    /// Nothing is written (unit tests).
    Off,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            "off" => Ok(LogFormat::Off),
            _ => Err(format!("expected text, json or off, found {s:?}")),
        }
    }
}

impl<'de> serde::Deserialize<'de> for LogFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The event logger of one daemon.
#[derive(Debug, Clone)]
pub struct Logger {
    format: LogFormat,
    role: &'static str,
}

impl Logger {
    pub fn new(format: LogFormat, role: &'static str) -> Self {
        Logger { format, role }
    }

    /// A logger that writes nothing.
    pub fn off() -> Self {
        Logger::new(LogFormat::Off, "test")
    }

    /// Write one event with its fields.
    pub fn event(&self, event: &str, fields: &[(&str, Value)]) {
        if self.format == LogFormat::Off {
            return;
        }
        println_stderr(&self.render(event, fields));
    }

    /// The line `event` is written as (without the newline).
    pub fn render(&self, event: &str, fields: &[(&str, Value)]) -> String {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        match self.format {
            LogFormat::Json => {
                let mut m = Map::new();
                m.insert("ts".into(), Value::from((ts * 1000.0).round() / 1000.0));
                m.insert("role".into(), Value::from(self.role));
                m.insert("event".into(), Value::from(event));
                for (k, v) in fields {
                    m.insert((*k).to_string(), v.clone());
                }
                Value::Object(m).to_string()
            }
            LogFormat::Text | LogFormat::Off => {
                let mut line = format!("{ts:.3} {} {event}", self.role);
                for (k, v) in fields {
                    let v = match v {
                        Value::String(s) if !s.contains(' ') && !s.is_empty() => s.clone(),
                        other => other.to_string(),
                    };
                    line.push_str(&format!(" {k}={v}"));
                }
                line
            }
        }
    }
}

/// `eprintln!`, so that test harnesses capture it.
fn println_stderr(line: &str) {
    eprintln!("{line}");
}

/// Shorthand for a field value: `v(x)` for anything that converts to JSON.
pub fn v<T: Into<Value>>(x: T) -> Value {
    x.into()
}

/// A field value from anything `Display` (addresses, MACs).
pub fn s<T: std::fmt::Display>(x: T) -> Value {
    Value::String(x.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_objects() {
        let l = Logger::new(LogFormat::Json, "map");
        let line = l.render("bu_received", &[("seq", v(7)), ("lcoa", s("2001:db8::1"))]);
        let o: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(o["event"], "bu_received");
        assert_eq!(o["seq"], 7);
        assert_eq!(o["role"], "map");
    }

    #[test]
    fn text_lines_are_key_value() {
        let l = Logger::new(LogFormat::Text, "map");
        let line = l.render("drop", &[("reason", s("bad checksum")), ("offset", v(58))]);
        assert!(
            line.ends_with("map drop reason=\"bad checksum\" offset=58"),
            "{line}"
        );
    }
}
