//! The text log's lines (prefix, fields, timestamp), written as
//! `tracing_subscriber`'s default formatter writes them, at a fraction of
//! its cost; the timestamp serves the JSON log too.
//!
//! Every token's audit line has nine fields, and its request span three.
//! The default field formatter writes each field through three styled
//! `Display` values and one `format_args!` (about 600 instructions a field,
//! styles included when there are no colours), and the default timer turns
//! the clock into a date on every line: together half of what the audit
//! line cost. Here a field is a name, `=` and its value written as strings
//! (numbers by `itoa`), and the date part of the timestamp is made once a
//! second. The output is byte for byte the default's (the tests compare
//! them); with colours, on a terminal, the default formatter does the work.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultFields, DefaultVisitor, Format, Full, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats tollgate's own events as the default formatter ([`Full`])
/// does, writing the line's parts as strings instead of styled `Display`
/// values; other events (the `log` crate's, through `tracing-log`) and
/// coloured output are left to the default formatter.
pub(crate) struct Text<T> {
    timer: T,
    standard: Format<Full, T>,
}

impl<T: FormatTime + Clone> Text<T> {
    pub(crate) fn new(timer: T) -> Self {
        Self {
            standard: tracing_subscriber::fmt::format().with_timer(timer.clone()),
            timer,
        }
    }
}

impl<S, N, T> FormatEvent<S, N> for Text<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if writer.has_ansi_escapes() || !meta.target().starts_with("tollgate") {
            return self.standard.format_event(ctx, writer, event);
        }
        if self.timer.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_str(match *meta.level() {
            Level::TRACE => " TRACE ",
            Level::DEBUG => " DEBUG ",
            Level::INFO => "  INFO ",
            Level::WARN => "  WARN ",
            Level::ERROR => " ERROR ",
        })?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// Formats fields as [`DefaultFields`] does; for the text log.
#[derive(Debug, Default)]
pub(crate) struct Fields;

impl<'w> FormatFields<'w> for Fields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        if writer.has_ansi_escapes() {
            return DefaultFields::new().format_fields(writer, fields);
        }
        let mut visitor = Plain {
            sanitize: writer.sanitizes_ansi_escapes(),
            writer,
            empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// One set of fields without colours: what [`DefaultVisitor`] writes, but
/// with the common values (strings, integers, booleans, `Display` and
/// `Debug` values) written directly. Errors are left to [`DefaultVisitor`].
struct Plain<'w> {
    writer: Writer<'w>,
    sanitize: bool,
    empty: bool,
    result: fmt::Result,
}

impl Plain<'_> {
    /// Starts a field: the separating space and `name=`; false when the
    /// field is not written (the `log` crate's metadata, or a failed
    /// write).
    fn start(&mut self, field: &Field) -> bool {
        if self.result.is_err() || field.name().starts_with("log.") {
            return false;
        }
        if !self.empty {
            self.result = self.writer.write_char(' ');
        }
        self.empty = false;
        let name = field.name();
        if name != "message" {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .writer
                .write_str(name)
                .and_then(|()| self.writer.write_char('='));
        }
        self.result.is_ok()
    }
}

impl Visit for Plain<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let message = field.name() == "message";
        let sanitize = self.sanitize;
        if self.start(field) {
            let w = &mut self.writer;
            self.result = if message {
                write_message(w, value, sanitize)
            } else {
                write_quoted(w, value)
            };
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.empty);
        visitor.record_error(field, value);
        self.result = visitor.finish();
        self.empty = false;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let message = field.name() == "message";
        let sanitize = self.sanitize;
        if self.start(field) {
            let w = &mut self.writer;
            self.result = if message && sanitize {
                write!(Sanitized(w.by_ref()), "{value:?}")
            } else {
                write!(w, "{value:?}")
            };
        }
    }
}

/// A string field as `{:?}` writes it: quoted, with the common case (no
/// character that needs escaping) written in one piece.
fn write_quoted(w: &mut Writer<'_>, value: &str) -> fmt::Result {
    if value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        w.write_char('"')?;
        w.write_str(value)?;
        w.write_char('"')
    } else {
        write!(w, "{value:?}")
    }
}

fn write_message(w: &mut Writer<'_>, value: &str, sanitize: bool) -> fmt::Result {
    if sanitize {
        Sanitized(w.by_ref()).write_str(value)
    } else {
        w.write_str(value)
    }
}

/// A message with the characters a terminal would act on escaped, as the
/// default formatter escapes them (ESC, BEL, BS, FF, DEL and the C1
/// controls), so that a value cannot rewrite an operator's screen.
struct Sanitized<'w>(Writer<'w>);

impl fmt::Write for Sanitized<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let risky = |c: char| {
            matches!(
                c,
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
            )
        };
        if !s.chars().any(risky) {
            return self.0.write_str(s);
        }
        for c in s.chars() {
            match c {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The wall clock as the default timer writes it
/// (`2026-12-04T21:09:00.123456Z`), the date and time of day made once a
/// second per thread.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timestamp;

impl FormatTime for Timestamp {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        // A log line's time is the wall clock's by definition: it is not
        // protocol time that tests pin.
        #[allow(clippy::disallowed_methods)]
        let now = SystemTime::now();
        write_time(w, now.duration_since(UNIX_EPOCH).unwrap_or_default())
    }
}

thread_local! {
    /// The last second written on this thread, and its text up to the
    /// seconds (`2026-12-04T21:09:00`).
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

fn write_time(w: &mut Writer<'_>, since_epoch: Duration) -> fmt::Result {
    let second = since_epoch.as_secs();
    let date = |out: &mut String| {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(second as i64) else {
            return Err(fmt::Error);
        };
        write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let cached = SECOND.try_with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != second {
            cached.1.clear();
            date(&mut cached.1)?;
            cached.0 = second;
        }
        w.write_str(&cached.1)
    });
    match cached {
        Ok(written) => written?,
        // A line logged while this thread's locals are torn down.
        Err(_) => {
            let mut text = String::new();
            date(&mut text)?;
            w.write_str(&text)?;
        }
    }
    let mut fraction = *b".000000Z";
    let mut micros = since_epoch.subsec_micros();
    for digit in fraction[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    // ASCII digits between '.' and 'Z'.
    w.write_str(std::str::from_utf8(&fraction).map_err(|_| fmt::Error)?)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer failed \x1b[31m")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner cause")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl std::error::Error for Inner {}

    /// Events of every kind of field, logged inside spans.
    fn events() {
        let request = tracing::info_span!(
            "request",
            id = "e1e0d648b1becd5a",
            method = %"POST",
            path = %"/connect/token",
        );
        let _in = request.enter();
        tracing::info!(
            target: "tollgate::audit",
            outcome = "issued",
            client_id = %"client",
            method = "client_secret_basic",
            scope = "api1 api2",
            jti = "kIAwVKBd0OI8_rkuepbsuA",
            expires_in = 3600u64,
            address = Some(tracing::field::display("127.0.0.1")),
            "token issued"
        );
        tracing::warn!(
            quoted = "say \"hi\"\\ and\ttab \u{e9}\u{301}\u{200b}",
            negative = -42i64,
            flag = true,
            float = 1.5f64,
            big = 1u128 << 100,
            debug = ?vec![Some("a"), None],
            r#type = "raw name",
            message = "ansi \x1b[2J bell \x07 c1 \u{85} end",
        );
        let nested = tracing::info_span!("inner", empty = tracing::field::Empty, n = 7u64);
        nested.in_scope(|| {
            tracing::error!(
                error = &Outer(Inner) as &(dyn std::error::Error + 'static),
                "failed: {}",
                "\x1b[1mbold"
            );
            tracing::info!(plain = "\u{1b}", "{}", "no fields but a message");
        });
        tracing::info!(lone = 1u64);
    }

    fn capture<N>(fields: N) -> String
    where
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
    {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(false)
            .without_time()
            .fmt_fields(fields)
            .finish();
        tracing::subscriber::with_default(subscriber, events);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn fields_are_written_byte_for_byte_as_the_default_formatter_writes_them() {
        let ours = capture(Fields);
        let default = capture(DefaultFields::new());
        assert_eq!(ours, default);
        assert!(ours.contains(
            "request{id=\"e1e0d648b1becd5a\" method=POST path=/connect/token}: tollgate::audit: token issued outcome=\"issued\" client_id=client"
        ), "{ours}");
        assert!(
            ours.contains("ansi \\x1b[2J bell \\x07 c1 \\u{85} end"),
            "{ours}"
        );
        assert!(ours.contains("error.sources=[inner cause]"), "{ours}");
        assert_eq!(ours.lines().count(), 5, "{ours}");
    }

    /// A pinned clock for comparing whole lines.
    #[derive(Clone)]
    struct Pinned;

    impl FormatTime for Pinned {
        fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
            w.write_str("2026-12-04T21:09:00.123456Z")
        }
    }

    #[test]
    fn lines_are_written_byte_for_byte_as_the_default_formatter_writes_them() {
        let lines = |ours: bool| {
            let out = Captured::default();
            let logs = tracing_subscriber::fmt()
                .with_writer(out.clone())
                .with_ansi(false)
                .with_max_level(tracing::Level::TRACE)
                .fmt_fields(Fields)
                .with_timer(Pinned);
            let run = || {
                events();
                tracing::trace!(n = 1u64, "trace");
                tracing::debug!("debug");
            };
            if ours {
                tracing::subscriber::with_default(
                    logs.event_format(Text::new(Pinned)).finish(),
                    run,
                );
            } else {
                tracing::subscriber::with_default(logs.finish(), run);
            }
            String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
        };
        let (ours, default) = (lines(true), lines(false));
        assert_eq!(ours, default);
        assert!(
            ours.starts_with("2026-12-04T21:09:00.123456Z  INFO request{"),
            "{ours}"
        );
        assert!(ours.contains(" ERROR request{"), "{ours}");
        assert_eq!(ours.lines().count(), 7, "{ours}");
    }

    #[test]
    fn timestamps_are_written_as_the_default_timer_writes_them() {
        let mut cases: Vec<Duration> = vec![
            Duration::new(0, 0),
            Duration::new(1_764_630_048, 415_660_123),
            Duration::new(1_764_630_048, 999_999_999),
            Duration::new(1_764_630_049, 1_000),
            Duration::new(951_782_400, 5),         // 2000-02-29
            Duration::new(4_102_444_799, 999_000), // 2099-12-31T23:59:59
        ];
        cases.extend(
            (0..200).map(|i| Duration::new(1_700_000_000 + i * 86_399, i as u32 * 4_999_999)),
        );
        for since_epoch in cases {
            let mut ours = String::new();
            write_time(&mut Writer::new(&mut ours), since_epoch).unwrap();
            let default = tracing_subscriber_time(UNIX_EPOCH + since_epoch);
            assert_eq!(ours, default, "{since_epoch:?}");
        }
    }

    /// The default timer's text for an instant: `tracing_subscriber` formats
    /// only "now", so its format is restated here from its documented
    /// shape (RFC 3339, microseconds, `Z`) through the `time` crate.
    fn tracing_subscriber_time(at: SystemTime) -> String {
        let t = time::OffsetDateTime::from(at);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }

    #[test]
    fn the_timer_writes_the_clock_now_in_the_default_shape() {
        use time::format_description::well_known::Rfc3339;
        let parse = |text: &str| time::OffsetDateTime::parse(text, &Rfc3339).unwrap();
        let mut ours = String::new();
        Timestamp.format_time(&mut Writer::new(&mut ours)).unwrap();
        let mut default = String::new();
        tracing_subscriber::fmt::time::SystemTime
            .format_time(&mut Writer::new(&mut default))
            .unwrap();
        assert_eq!(ours.len(), default.len(), "{ours} / {default}");
        let apart = (parse(&default) - parse(&ours)).abs();
        assert!(apart < time::Duration::seconds(1), "{ours} / {default}");
    }
}
