//! The stored form of a payload: the clinical record's JSON text, compressed with zstd and a
//! dictionary made for it.
//!
//! A finalized revision's payload (and its withheld view) is about 5–6 KB of JSON whose keys,
//! instrument item ids and outcome fields repeat from call to call. Stored as text it took two
//! 4 KiB pages per revision (a page and an overflow page), which every read, export and
//! page-cipher pass paid for. Compressed with a dictionary trained on such payloads it takes
//! about 300–400 bytes: several revisions share a page.
//!
//! What does not change: the payload *is* the JSON text. Its SHA-256 (`payload_sha256`, the
//! content hash finalize stores and `verify`, the export and the hub check) is over the text,
//! never over the stored bytes; every reader gets the text back byte for byte. Rows written
//! before migration 13 keep their payload as TEXT (finalized rows never change), and readers
//! take either form: a TEXT value is the payload itself, a BLOB value is a zstd frame.
//!
//! A dictionary, once released, is never changed or removed (rows name it by the id in their
//! frame header). A better one is added under a new id; [`DICTIONARIES`] keeps them all.
//! `dict/payload-1.zdict` (64 KiB) was trained by `cargo test --release --lib -- --ignored
//! write_payload_dictionary` from 4,000 synthetic demo calls (seed 20261204): no real caller's
//! data is in it.

use std::cell::RefCell;
use std::sync::OnceLock;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, functions::FunctionFlags};
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe::CParameter;

/// The dictionary new payloads are compressed with.
const CURRENT: u32 = DICT_1_ID;
const DICT_1_ID: u32 = 97_637_154;
static DICT_1: &[u8] = include_bytes!("dict/payload-1.zdict");

/// Every dictionary a stored payload may name, by the id in its frame header.
const DICTIONARIES: &[(u32, &[u8])] = &[(DICT_1_ID, DICT_1)];

/// zstd level: 3 (the library's default) compresses a payload in a few microseconds; higher
/// levels save a few per cent more for several times the CPU.
const LEVEL: i32 = 3;

/// No payload the app writes comes near this; a frame claiming more is refused unread.
pub(crate) const MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// Why stored bytes are not a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    #[error("a stored payload is not a zstd frame")]
    NotAFrame,
    #[error("a stored payload names dictionary {0}, which this version does not have")]
    UnknownDictionary(u32),
    #[error("a stored payload does not record its size, or claims more than 64 MiB")]
    BadSize,
    #[error("a stored payload does not decompress: {0}")]
    Damaged(String),
    #[error("a stored payload is not UTF-8 text")]
    NotText,
}

fn encoder() -> &'static EncoderDictionary<'static> {
    static E: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    E.get_or_init(|| {
        let (_, bytes) = DICTIONARIES
            .iter()
            .find(|(id, _)| *id == CURRENT)
            .expect("the current dictionary is listed");
        EncoderDictionary::copy(bytes, LEVEL)
    })
}

fn decoder(id: u32) -> Option<&'static DecoderDictionary<'static>> {
    static D: OnceLock<Vec<(u32, DecoderDictionary<'static>)>> = OnceLock::new();
    D.get_or_init(|| {
        DICTIONARIES
            .iter()
            .map(|(id, bytes)| (*id, DecoderDictionary::copy(bytes)))
            .collect()
    })
    .iter()
    .find(|(i, _)| *i == id)
    .map(|(_, d)| d)
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// The stored form of `json`: one zstd frame with its size and the dictionary's id in the
/// header, and a checksum of the content.
pub fn pack(json: &str) -> Vec<u8> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = slot.get_or_insert_with(|| {
            let mut c = zstd::bulk::Compressor::with_prepared_dictionary(encoder())
                .expect("a zstd context");
            for p in [
                CParameter::ChecksumFlag(true),
                CParameter::ContentSizeFlag(true),
                CParameter::DictIdFlag(true),
            ] {
                c.set_parameter(p).expect("a zstd parameter");
            }
            c
        });
        c.compress(json.as_bytes())
            .expect("compressing into a growable buffer cannot fail")
    })
}

/// The payload text `bytes` (a zstd frame written by [`pack`]) holds.
pub fn unpack(bytes: &[u8]) -> Result<String, UnpackError> {
    use zstd::zstd_safe;
    let size = zstd_safe::get_frame_content_size(bytes).map_err(|_| UnpackError::NotAFrame)?;
    let size = match size {
        Some(n) if n <= MAX_PAYLOAD as u64 => n as usize,
        _ => return Err(UnpackError::BadSize),
    };
    let id = zstd_safe::get_dict_id_from_frame(bytes).map_or(0, |d| d.get());
    let dict = decoder(id).ok_or(UnpackError::UnknownDictionary(id))?;
    let mut out = Vec::with_capacity(size);
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let d = match &mut *slot {
            Some(d) => d,
            None => slot.insert(
                zstd::bulk::Decompressor::new().map_err(|e| UnpackError::Damaged(e.to_string()))?,
            ),
        };
        d.set_prepared_dictionary(dict)
            .and_then(|()| d.decompress_to_buffer(bytes, &mut out))
            .map_err(|e| UnpackError::Damaged(e.to_string()))
    })?;
    if out.len() != size {
        return Err(UnpackError::Damaged(
            "its size differs from its header".into(),
        ));
    }
    String::from_utf8(out).map_err(|_| UnpackError::NotText)
}

/// A payload column's value as text: TEXT as stored (rows written before migration 13),
/// BLOB unpacked.
pub(crate) fn text_of(v: ValueRef<'_>) -> FromSqlResult<String> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map(str::to_owned)
            .map_err(|e| FromSqlError::Other(Box::new(e))),
        ValueRef::Blob(b) => unpack(b).map_err(|e| FromSqlError::Other(Box::new(e))),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// A payload read from the database: `row.get::<_, Stored>(i)?.0` is its text.
pub(crate) struct Stored(pub String);

impl FromSql for Stored {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        text_of(v).map(Stored)
    }
}

/// A payload to write: binds as its packed form.
pub(crate) struct Packed(pub Vec<u8>);

impl Packed {
    pub fn of(json: &str) -> Packed {
        Packed(pack(json))
    }
}

impl ToSql for Packed {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Blob(&self.0)))
    }
}

/// `payload_text(x)` in SQL: a payload column's text, for the SQL that reads inside a payload
/// (`json_extract` in the dashboard's triggers and queries). NULL stays NULL.
pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    c.create_scalar_function(
        "payload_text",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let v = ctx.get_raw(0);
            if matches!(v, ValueRef::Null) {
                return Ok(None);
            }
            text_of(v)
                .map(Some)
                .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"schema":"accessline.encounter/1","intake":{"caller_type":"self","anonymous":true,"age":34,"language":"es","reason":"Necesito hablar con alguien — ñ, 漢字"},"crisis":{"opened":false,"actions":{}}}"#;

    /// Writes `src/store/dict/payload-N.zdict` from synthetic demo calls: for a *new*
    /// dictionary only (a released one never changes). Add it to [`DICTIONARIES`] under the id
    /// it prints and make it [`CURRENT`].
    #[test]
    #[ignore = "writes a new dictionary file; run by hand"]
    fn write_payload_dictionary() {
        let defs = crate::domain::catalog::Definitions::builtin().unwrap();
        let samples = crate::store::demo::sample_payloads(&defs, 20_261_204, 4_000);
        let dict = zstd::dict::from_samples(&samples, 64 * 1024).unwrap();
        let id = zstd::zstd_safe::get_dict_id_from_dict(&dict).unwrap();
        let path = std::env::var("ACCESSLINE_DICT_OUT").unwrap_or("payload-new.zdict".into());
        std::fs::write(&path, &dict).unwrap();
        let (raw, packed): (usize, usize) = samples.iter().fold((0, 0), |(r, p), s| {
            (
                r + s.len(),
                p + zstd::bulk::Compressor::with_dictionary(LEVEL, &dict)
                    .unwrap()
                    .compress(s.as_bytes())
                    .unwrap()
                    .len(),
            )
        });
        eprintln!(
            "{path}: id {id}, {} bytes; {} samples, {raw} -> {packed} bytes",
            dict.len(),
            samples.len()
        );
    }

    #[test]
    fn a_payload_comes_back_byte_for_byte() {
        let packed = pack(SAMPLE);
        assert_eq!(unpack(&packed).unwrap(), SAMPLE);
        assert_eq!(unpack(&pack("")).unwrap(), "");
        let big = "x".repeat(1 << 20);
        assert_eq!(unpack(&pack(&big)).unwrap(), big);
    }

    #[test]
    fn packing_is_deterministic_and_names_the_dictionary() {
        assert_eq!(pack(SAMPLE), pack(SAMPLE));
        let id = zstd::zstd_safe::get_dict_id_from_frame(&pack(SAMPLE)).map(|d| d.get());
        assert_eq!(id, Some(CURRENT));
    }

    #[test]
    fn every_listed_dictionary_has_the_id_it_is_listed_under() {
        for (id, bytes) in DICTIONARIES {
            assert_eq!(
                zstd::zstd_safe::get_dict_id_from_dict(bytes).map(|d| d.get()),
                Some(*id)
            );
        }
    }

    #[test]
    fn damaged_bytes_are_refused_not_misread() {
        let packed = pack(SAMPLE);
        assert_eq!(unpack(b"{\"not\":\"zstd\"}"), Err(UnpackError::NotAFrame));
        assert!(unpack(&packed[..packed.len() - 3]).is_err());
        // A flipped bit anywhere: refused, or (a bit the decoder never uses) the same text;
        // never other text: the frame's checksum covers the content.
        let mut refused = 0;
        for at in 0..packed.len() {
            for bit in 0..8 {
                let mut bad = packed.clone();
                bad[at] ^= 1 << bit;
                match unpack(&bad) {
                    Ok(text) => assert_eq!(text, SAMPLE, "byte {at} bit {bit}"),
                    Err(_) => refused += 1,
                }
            }
        }
        assert!(refused > packed.len() * 8 * 9 / 10, "{refused}");
        // A frame compressed without a dictionary names none (id 0): unknown here.
        let plain = zstd::bulk::compress(SAMPLE.as_bytes(), 3).unwrap();
        assert_eq!(unpack(&plain), Err(UnpackError::UnknownDictionary(0)));
    }

    #[test]
    fn a_frame_claiming_a_huge_size_is_refused_unread() {
        // A frame header: magic, descriptor with an 8-byte content size and a 4-byte dict id.
        // (single segment, so no window descriptor).
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0b1110_0011];
        frame.extend_from_slice(&CURRENT.to_le_bytes());
        frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert_eq!(unpack(&frame), Err(UnpackError::BadSize));
    }

    #[test]
    fn both_stored_forms_read_as_text_in_sql() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        c.execute_batch("CREATE TABLE t (p)").unwrap();
        c.execute("INSERT INTO t VALUES (?1)", [SAMPLE]).unwrap();
        c.execute("INSERT INTO t VALUES (?1)", [Packed::of(SAMPLE)])
            .unwrap();
        c.execute("INSERT INTO t VALUES (NULL)", []).unwrap();
        let texts: Vec<Option<String>> = c
            .prepare("SELECT payload_text(p) FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(texts, [Some(SAMPLE.into()), Some(SAMPLE.into()), None]);
        let ages: Vec<i64> = c
            .prepare(
                "SELECT json_extract(payload_text(p), '$.intake.age') FROM t WHERE p IS NOT NULL",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ages, [34, 34]);
        let stored: Vec<String> = c
            .prepare("SELECT p FROM t WHERE p IS NOT NULL")
            .unwrap()
            .query_map([], |r| r.get::<_, Stored>(0).map(|s| s.0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(stored, [SAMPLE, SAMPLE]);
        c.execute("INSERT INTO t VALUES (x'28b52ffd00')", [])
            .unwrap();
        let err = c
            .query_row("SELECT payload_text(p) FROM t WHERE rowid = 4", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap_err();
        assert!(err.to_string().contains("stored payload"), "{err}");
    }
}
