//! A record's row: the flat JSON object of its fields, read and written in place.
//!
//! Rows are kept whole, as the legacy primary keeps them: [`normalize`] reads a pushed `data`
//! object into the stored text form (each known field converted by its type, other names mapped
//! to the field, unknown keys kept as pushed), and [`merge`] lays it over the stored row, so that
//! fields a push leaves out keep their value and a new row gets the catalogue's defaults. The
//! result lists the catalogue's fields in order, then the keys the catalogue does not know.
//!
//! Record access is part of the domain: these functions know the shape of a row (an object of
//! fields), not any API's envelope.

use std::borrow::Cow;

use super::fields::{Slot, TableFields};
use super::values::{to_stored, ValueRules};

/// Strings up to this long are scanned byte by byte (see `Members::string_end`).
const SHORT_STRING: usize = 16;

/// The kind of a JSON value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    String,
    Number,
    True,
    False,
    Null,
    Object,
    Array,
}

/// One JSON value as it appears in the text, `raw` including quotes or brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    pub raw: &'a [u8],
}

/// A row is not a flat JSON object, or one of its values cannot be read as its field's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("the data is not a JSON object")]
    NotAnObject,
    #[error("field {field}: {value} {reason}")]
    BadValue {
        field: String,
        value: String,
        reason: &'static str,
    },
}

/// The members of a JSON object, in order: (key as written, with its quotes; value).
pub struct Members<'a> {
    bytes: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> Members<'a> {
    pub fn new(bytes: &'a [u8]) -> Members<'a> {
        Members {
            bytes,
            at: 0,
            done: false,
        }
    }

    fn skip_space(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| *b <= b' ' && b.is_ascii_whitespace())
        {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.bytes.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// The end (exclusive) of the string starting at `from` (its opening quote).
    fn string_end(&self, from: usize) -> Option<usize> {
        let mut i = from + 1;
        // Most keys and values are short: a plain loop finds their end before memchr's set-up
        // would have paid off.
        for (n, byte) in self.bytes.get(i..)?.iter().take(SHORT_STRING).enumerate() {
            match byte {
                b'"' => return Some(i + n + 1),
                b'\\' => break,
                _ => {}
            }
        }
        loop {
            i += memchr::memchr2(b'"', b'\\', self.bytes.get(i..)?)?;
            if self.bytes[i] == b'"' {
                return Some(i + 1);
            }
            i += 2;
        }
    }

    fn value(&mut self) -> Option<Token<'a>> {
        self.skip_space();
        let start = self.at;
        let (kind, end) = match *self.bytes.get(start)? {
            b'"' => (TokenKind::String, self.string_end(start)?),
            b'{' | b'[' => {
                let kind = if self.bytes[start] == b'{' {
                    TokenKind::Object
                } else {
                    TokenKind::Array
                };
                let mut depth = 0usize;
                let mut i = start;
                loop {
                    match *self.bytes.get(i)? {
                        b'"' => {
                            i = self.string_end(i)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                break (kind, i + 1);
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b't' => (TokenKind::True, start + 4),
            b'f' => (TokenKind::False, start + 5),
            b'n' => (TokenKind::Null, start + 4),
            _ => {
                let len = self.bytes[start..]
                    .iter()
                    .take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .count();
                (TokenKind::Number, start + len.max(1))
            }
        };
        let raw = self.bytes.get(start..end)?;
        let literal_ok = match kind {
            TokenKind::True => raw == b"true",
            TokenKind::False => raw == b"false",
            TokenKind::Null => raw == b"null",
            TokenKind::Number => raw.iter().any(u8::is_ascii_digit),
            _ => true,
        };
        self.at = end;
        literal_ok.then_some(Token { kind, raw })
    }

    fn member(&mut self) -> Option<Option<(&'a [u8], Token<'a>)>> {
        if self.at == 0 {
            self.expect(b'{')?;
            self.skip_space();
            if self.bytes.get(self.at) == Some(&b'}') {
                return Some(None);
            }
        } else {
            self.skip_space();
            match self.bytes.get(self.at)? {
                b',' => self.at += 1,
                b'}' => return Some(None),
                _ => return None,
            }
        }
        self.skip_space();
        if self.bytes.get(self.at) != Some(&b'"') {
            return None;
        }
        let key_end = self.string_end(self.at)?;
        let key = &self.bytes[self.at..key_end];
        self.at = key_end;
        self.expect(b':')?;
        Some(Some((key, self.value()?)))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<(&'a [u8], Token<'a>), RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.member() {
            Some(Some(member)) => Some(Ok(member)),
            Some(None) => {
                self.done = true;
                None
            }
            None => {
                self.done = true;
                Some(Err(RowError::NotAnObject))
            }
        }
    }
}

/// The text of a JSON string literal (with its quotes), unescaped only when it has escapes.
pub fn unescape(raw: &[u8]) -> Option<Cow<'_, str>> {
    let inner = raw.get(1..raw.len().checked_sub(1)?)?;
    if !inner.contains(&b'\\') {
        return std::str::from_utf8(inner).ok().map(Cow::Borrowed);
    }
    serde_json::from_slice::<String>(raw).ok().map(Cow::Owned)
}

/// The values of the named top-level fields of a row, in the order of `names`: strings
/// unescaped, numbers and booleans as their text; anything else, a missing field, or data that is
/// not an object is `None`. Only the wanted fields are copied, and the scan stops once each is
/// found: routing reads a few fields of every pushed row, and whole rows are long. A stored row
/// holds each key once (normalize rewrites a key given twice), so the first is the one.
pub fn string_fields(data: &[u8], names: &[&str]) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = names.iter().map(|n| (n.to_string(), None)).collect();
    let mut found = vec![false; names.len()];
    let mut missing = names.len();
    for member in Members::new(data) {
        if missing == 0 {
            break;
        }
        let Ok((key, token)) = member else { break };
        let inner = &key[1..key.len() - 1];
        let slot = if inner.contains(&b'\\') {
            unescape(key).and_then(|name| names.iter().position(|wanted| *wanted == name))
        } else {
            names.iter().position(|wanted| wanted.as_bytes() == inner)
        };
        let Some(slot) = slot.filter(|s| !found[*s]) else {
            continue;
        };
        found[slot] = true;
        missing -= 1;
        out[slot].1 = token_text(token);
    }
    out
}

/// Every top-level field of a row, in its order, its value read as [`string_fields`] reads it:
/// for a caller that reads many fields of one row, in one scan.
pub fn text_fields(data: &[u8]) -> Vec<(String, Option<String>)> {
    Members::new(data)
        .map_while(Result::ok)
        .filter_map(|(key, token)| Some((unescape(key)?.into_owned(), token_text(token))))
        .collect()
}

/// A value as text: strings unescaped, numbers and booleans as written, anything else `None`.
fn token_text(token: Token<'_>) -> Option<String> {
    match token.kind {
        TokenKind::String => unescape(token.raw).map(Cow::into_owned),
        TokenKind::Number | TokenKind::True | TokenKind::False => {
            std::str::from_utf8(token.raw).ok().map(str::to_string)
        }
        TokenKind::Null | TokenKind::Object | TokenKind::Array => None,
    }
}

/// A row of text fields, in the order given (a record the primary writes itself).
pub fn text_row(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut data = Vec::with_capacity(2 + fields.iter().map(|(n, v)| n.len() + v.len() + 6).sum::<usize>());
    data.push(b'{');
    for (n, (name, value)) in fields.iter().enumerate() {
        if n > 0 {
            data.push(b',');
        }
        write_json_string(&mut data, name);
        data.push(b':');
        write_json_string(&mut data, value);
    }
    data.push(b'}');
    data
}

/// Appends `s` as a JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Ids, table names and dates need no escaping: copy them whole, escape only the rest.
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
    }
}

/// A pushed row in the stored form, as [`normalize`] makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normal {
    /// The row rewritten; `None` when the object as pushed already is the stored form.
    pub data: Option<Vec<u8>>,
    /// The row lists every field of the catalogue, in order, before any key the catalogue does
    /// not know: as a new row it is complete, and [`merge`] into nothing would return it as it is.
    pub whole: bool,
}

impl Normal {
    /// The row in the stored form: the rewritten one, or `pushed` itself.
    pub fn into_data(self, pushed: Vec<u8>) -> Vec<u8> {
        self.data.unwrap_or(pushed)
    }
}

/// A pushed `data` object in the stored form, holding only what the push carries: each field the
/// catalogue knows under its own name with its value converted by its type (a field's own name
/// wins over another name of it pushed in the same object), then the unknown keys as pushed.
/// Rewritten only when the object as pushed is not that already (a table the catalogue does not
/// know keeps its objects as pushed).
pub fn normalize(table: Option<&TableFields>, pushed: &[u8], rules: ValueRules) -> Result<Normal, RowError> {
    let Some(table) = table else {
        // Checked to be an object all the same: merge reads it later.
        for member in Members::new(pushed) {
            member?;
        }
        return Ok(Normal {
            data: None,
            whole: false,
        });
    };
    if let Some(whole) = in_stored_form(table, pushed, rules) {
        return Ok(Normal { data: None, whole });
    }
    let mut values: Vec<Option<(Cow<'_, [u8]>, bool)>> = vec![None; table.fields.len()];
    let mut unknown: Vec<(&[u8], &[u8])> = Vec::new();
    // Whether the stored form differs from what was pushed (another name, a converted value, a
    // key twice): when it does not, the pushed bytes are kept as they are.
    let mut changed = false;
    // Whether the fields met so far are the catalogue's first ones, in order, with no unknown
    // key among them (the pushed bytes are then a whole row if every field is there).
    let mut in_order = true;
    let mut next_field = 0usize;
    let mut cursor = 0usize;
    for member in Members::new(pushed) {
        let (key, token) = member?;
        let slots = slots_of(table, key, &mut cursor);
        if slots.is_empty() {
            changed |= unknown.iter().any(|(k, _)| *k == key);
            unknown.retain(|(k, _)| *k != key);
            unknown.push((key, token.raw));
            continue;
        }
        for slot in slots {
            let i = slot.field as usize;
            in_order &= unknown.is_empty() && i == next_field;
            next_field = i + 1;
            if slot.alias && values[i].as_ref().is_some_and(|(_, direct)| *direct) {
                changed = true;
                continue;
            }
            let field = &table.fields[i];
            let stored = to_stored(field.kind, token, &field.default_json, rules).map_err(|e| RowError::BadValue {
                field: field.name.clone(),
                value: String::from_utf8_lossy(&token.raw[..token.raw.len().min(64)]).into_owned(),
                reason: e.0,
            })?;
            changed |= slot.alias
                || values[i].is_some()
                || !matches!(&stored, Cow::Borrowed(b) if b.as_ptr() == token.raw.as_ptr());
            values[i] = Some((stored, !slot.alias));
        }
    }
    if !changed {
        return Ok(Normal {
            data: None,
            whole: in_order && next_field == table.fields.len(),
        });
    }
    let whole = values.iter().all(Option::is_some);
    let mut out = Vec::with_capacity(pushed.len() + 16);
    out.push(b'{');
    let mut members = 0;
    for (field, value) in table.fields.iter().zip(&values) {
        if let Some((value, _)) = value {
            put_member(&mut out, &mut members, &field.key_json, value);
        }
    }
    for (key, value) in unknown {
        put_key_member(&mut out, &mut members, key, value);
    }
    out.push(b'}');
    Ok(Normal { data: Some(out), whole })
}

/// Whether the pushed object is already the stored form of its first fields, in the catalogue's
/// order (what a satellite that keeps whole rows pushes): then `Some` of whether it is the whole
/// row, found without the bookkeeping of a full read. `None` as soon as anything differs (a key
/// out of order, unknown or shared, a value not in its stored form, a value refused, bad JSON):
/// the full read then decides, and reports the error if there is one.
fn in_stored_form(table: &TableFields, pushed: &[u8], rules: ValueRules) -> Option<bool> {
    let mut fields = table.fields.iter();
    let mut count = 0;
    for member in Members::new(pushed) {
        let (key, token) = member.ok()?;
        let field = fields.next()?;
        if field.shared_key || field.name.as_bytes() != &key[1..key.len() - 1] {
            return None;
        }
        match to_stored(field.kind, token, &field.default_json, rules).ok()? {
            Cow::Borrowed(stored) if stored.as_ptr() == token.raw.as_ptr() => count += 1,
            _ => return None,
        }
    }
    Some(count == table.fields.len())
}

/// The fields a pushed key writes. Pushes usually list the fields in the catalogue's order, so
/// the next field is tried before the table's map.
fn slots_of<'t>(table: &'t TableFields, key: &[u8], cursor: &mut usize) -> &'t [Slot] {
    let inner = &key[1..key.len() - 1];
    if let Some(field) = table.fields.get(*cursor) {
        if field.name.as_bytes() == inner && !field.shared_key {
            *cursor += 1;
            return std::slice::from_ref(&table.direct[*cursor - 1]);
        }
    }
    let found = if inner.contains(&b'\\') {
        unescape(key).map(|name| table.slots(&name)).unwrap_or(&[])
    } else {
        std::str::from_utf8(inner).map(|name| table.slots(name)).unwrap_or(&[])
    };
    if let Some(direct) = found.iter().find(|s| !s.alias) {
        *cursor = direct.field as usize + 1;
    }
    found
}

/// What a new row takes from the write that creates it.
#[derive(Debug, Clone, Copy)]
pub struct NewRow<'a> {
    pub record_id: &'a str,
    /// The day of the write (`YYYY-MM-DD`), for the dates that default to it.
    pub today: &'a str,
}

/// The whole row after a push: `pushed` (a row from [`normalize`]) laid over `stored` (the row
/// as kept; `None` for a new row), every field the catalogue knows in order (what neither holds
/// gets its default, `ID` the record's id, a `today` date the day of the write), then the keys it
/// does not know (the stored ones in their order, then the new ones).
pub fn merge(
    table: Option<&TableFields>,
    new: NewRow<'_>,
    pushed: &[u8],
    stored: Option<&[u8]>,
) -> Result<Vec<u8>, RowError> {
    let field_count = table.map_or(0, |t| t.fields.len());
    // Where each field of the merged row comes from (`Run::None`: neither row holds it).
    let mut parts: Vec<Run> = vec![Run::None; field_count];
    let mut unknown: Vec<(&[u8], &[u8])> = Vec::new();
    if let Some(row) = stored {
        let mut cursor = 0usize;
        for member in Members::new(row) {
            let (key, token) = member?;
            match table.and_then(|t| position_of(t, key, &mut cursor)) {
                Some(i) => {
                    let start = offset(row, key);
                    parts[i] = Run::Stored(start, offset(row, token.raw) + token.raw.len());
                }
                None => unknown.push((key, token.raw)),
            }
        }
    }
    let mut cursor = 0usize;
    for member in Members::new(pushed) {
        let (key, token) = member?;
        match table.and_then(|t| position_of(t, key, &mut cursor)) {
            Some(i) => parts[i] = Run::Pushed(offset(pushed, key), offset(pushed, token.raw) + token.raw.len()),
            None => match unknown.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = token.raw,
                None => unknown.push((key, token.raw)),
            },
        }
    }
    let mut out = Vec::with_capacity(pushed.len() + stored.map_or(0, <[u8]>::len) + field_count * 8 + 2);
    out.push(b'{');
    let mut members = 0;
    if let Some(table) = table {
        // Runs of consecutive fields pushed, kept from the stored row, or left at their defaults
        // are copied as one slice each (of the push, the stored row, or the row of defaults): a
        // push of the whole row is one copy.
        let mut run = Run::None;
        let sources = Sources {
            pushed,
            stored,
            defaults: &table.defaults_row,
        };
        for (i, (field, part)) in table.fields.iter().zip(&parts).enumerate() {
            let generated = matches!(part, Run::None) && (field.name == "ID" || field.default_today);
            let piece = match part {
                Run::None if !generated => {
                    let (start, end) = table.default_spans[i];
                    Run::Default(start, end)
                }
                other => *other,
            };
            run = match (run, piece) {
                (Run::Pushed(a, b), Run::Pushed(s, e)) if s == b + 1 => Run::Pushed(a, e),
                (Run::Stored(a, b), Run::Stored(s, e)) if s == b + 1 => Run::Stored(a, e),
                (Run::Default(a, b), Run::Default(s, e)) if s == b + 1 => Run::Default(a, e),
                (done, next) => {
                    flush(&mut out, &mut members, done, &sources);
                    next
                }
            };
            if generated && field.name == "ID" {
                let mut id = Vec::with_capacity(new.record_id.len() + 2);
                write_json_string(&mut id, new.record_id);
                put_member(&mut out, &mut members, &field.key_json, &id);
            } else if generated {
                let day = format!("\"{}T00:00:00\"", new.today);
                put_member(&mut out, &mut members, &field.key_json, day.as_bytes());
            }
        }
        flush(&mut out, &mut members, run, &sources);
    }
    for (key, value) in unknown {
        put_key_member(&mut out, &mut members, key, value);
    }
    out.push(b'}');
    Ok(out)
}

/// A run of members to copy whole (key to value, one member or several in a row): a byte range
/// of the push, the stored row or the row of defaults.
#[derive(Clone, Copy)]
enum Run {
    None,
    Pushed(usize, usize),
    Stored(usize, usize),
    Default(usize, usize),
}

/// The rows runs are copied from.
struct Sources<'a> {
    pushed: &'a [u8],
    stored: Option<&'a [u8]>,
    defaults: &'a [u8],
}

fn flush(out: &mut Vec<u8>, members: &mut usize, run: Run, sources: &Sources<'_>) {
    let slice = match run {
        Run::None => return,
        Run::Pushed(start, end) => &sources.pushed[start..end],
        Run::Stored(start, end) => &sources.stored.expect("a stored run comes from a stored row")[start..end],
        Run::Default(start, end) => &sources.defaults[start..end],
    };
    if *members > 0 {
        out.push(b',');
    }
    *members += 1;
    out.extend_from_slice(slice);
}

/// Where `part` (a sub-slice of `whole`) starts in it.
fn offset(whole: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// The field a stored-form key names. Rows in the stored form list the catalogue's fields in
/// order, so the next field is tried before the table's map.
fn position_of(table: &TableFields, key: &[u8], cursor: &mut usize) -> Option<usize> {
    let name = key.get(1..key.len().saturating_sub(1))?;
    if let Some(field) = table.fields.get(*cursor) {
        if field.name.as_bytes() == name {
            *cursor += 1;
            return Some(*cursor - 1);
        }
    }
    let name = unescape(key)?;
    let found = table.position(&name)?;
    *cursor = found + 1;
    Some(found)
}

fn put_member(out: &mut Vec<u8>, members: &mut usize, key_json: &[u8], value: &[u8]) {
    if *members > 0 {
        out.push(b',');
    }
    *members += 1;
    out.extend_from_slice(key_json);
    out.extend_from_slice(value);
}

fn put_key_member(out: &mut Vec<u8>, members: &mut usize, key: &[u8], value: &[u8]) {
    if *members > 0 {
        out.push(b',');
    }
    *members += 1;
    out.extend_from_slice(key);
    out.push(b':');
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests;
