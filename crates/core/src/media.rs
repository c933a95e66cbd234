//! The one media policy (issue 17, item 3): what kinds of files Gongzhi keeps, which types each
//! kind accepts, how large each may be, and how a file's type is decided — from its bytes, never
//! from the type its sender declared. Photos lose their EXIF/XMP metadata (location, device)
//! before they are stored. Pure: no I/O.

use std::fmt;

/// What a stored file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A picture shown inline: JPEG, PNG or WebP.
    Photo,
    /// A document downloaded as a file: PDF.
    Document,
}

/// The largest photo kept: 5 MiB.
pub const PHOTO_MAX_BYTES: usize = 5 * 1024 * 1024;
/// The largest document kept: 10 MiB.
pub const DOCUMENT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// What an upload route's body may carry beyond its largest file: the multipart framing and the
/// form's other fields.
pub const BODY_OVERHEAD_BYTES: usize = 512 * 1024;

/// The accepted types of each kind, as (media type, file extension).
const PHOTO_TYPES: &[(&str, &str)] = &[("image/jpeg", "jpg"), ("image/png", "png"), ("image/webp", "webp")];
const DOCUMENT_TYPES: &[(&str, &str)] = &[("application/pdf", "pdf")];

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Photo, Kind::Document];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Photo => "photo",
            Kind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The largest file of this kind, in bytes.
    pub fn max_bytes(self) -> usize {
        match self {
            Kind::Photo => PHOTO_MAX_BYTES,
            Kind::Document => DOCUMENT_MAX_BYTES,
        }
    }

    /// The media types this kind accepts.
    pub fn types(self) -> impl Iterator<Item = &'static str> {
        self.table().iter().map(|(t, _)| *t)
    }

    fn table(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Photo => PHOTO_TYPES,
            Kind::Document => DOCUMENT_TYPES,
        }
    }

    /// The kind of a media type, if Gongzhi keeps that type at all.
    pub fn of_type(media_type: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.types().any(|t| t == media_type))
    }
}

/// The body limit of an upload route that takes files of `kinds`: the largest of their limits
/// plus [`BODY_OVERHEAD_BYTES`].
pub fn body_limit(kinds: &[Kind]) -> usize {
    kinds.iter().map(|k| k.max_bytes()).max().unwrap_or(0) + BODY_OVERHEAD_BYTES
}

/// The file extension of an accepted media type (`bin` for anything else).
pub fn extension(media_type: &str) -> &'static str {
    Kind::ALL
        .into_iter()
        .flat_map(|k| k.table().iter())
        .find(|(t, _)| *t == media_type)
        .map(|(_, e)| *e)
        .unwrap_or("bin")
}

/// The `Content-Disposition` a stored file is served with: photos inline, everything else as a
/// download named `media-ID.EXT` (never a name a sender chose).
pub fn disposition(media_type: &str, id: i64) -> String {
    match Kind::of_type(media_type) {
        Some(Kind::Photo) => "inline".to_owned(),
        _ => format!("attachment; filename=\"media-{id}.{}\"", extension(media_type)),
    }
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaError {
    /// No bytes at all.
    Empty,
    /// The bytes are not of an accepted type (answered with 415).
    Unsupported {
        detected: String,
        accepted: Vec<&'static str>,
    },
    /// Larger than its kind allows (answered with 413).
    TooLarge { kind: Kind, max: usize, size: usize },
    /// The sender declared another accepted type than the bytes are.
    Mismatch { declared: String, detected: &'static str },
    /// The sender declared a type that is not accepted (answered with 415), whatever the bytes.
    DeclaredUnsupported {
        declared: String,
        accepted: Vec<&'static str>,
    },
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaError::Empty => write!(f, "the file is empty: send a file of at least 1 byte"),
            MediaError::Unsupported { detected, accepted } => write!(
                f,
                "the file is {detected}, which is not accepted here: send {} (the type is read from the file's bytes, not from its name or declared type)",
                accepted.join(", ")
            ),
            MediaError::TooLarge { kind, max, size } => write!(
                f,
                "the {} is {} bytes; a {} may have at most {} MiB",
                kind.as_str(),
                size,
                kind.as_str(),
                max / 1024 / 1024
            ),
            MediaError::Mismatch { declared, detected } => write!(
                f,
                "the file was sent as {declared} but its bytes are {detected}: send it with its true type"
            ),
            MediaError::DeclaredUnsupported { declared, accepted } => write!(
                f,
                "the file was sent as {declared}, which is not accepted here: send {}",
                accepted.join(", ")
            ),
        }
    }
}

impl std::error::Error for MediaError {}

/// The accepted media type the bytes are, if any (from their magic numbers, via `infer`).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let t = infer::get(bytes)?.mime_type();
    Kind::of_type(t).and_then(|k| k.types().find(|x| *x == t))
}

/// What the bytes look like, for a refusal's message.
pub fn describe(bytes: &[u8]) -> String {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    if head.contains("<svg") && !head.contains('\u{fffd}') {
        return "an SVG image (image/svg+xml), which can carry scripts".to_owned();
    }
    if let Some(t) = infer::get(bytes) {
        return format!("{} ({})", t.mime_type(), t.extension());
    }
    if head.contains("<html") || head.contains("<!doctype html") || head.contains("<script") {
        "HTML (text/html)".to_owned()
    } else if std::str::from_utf8(&bytes[..bytes.len().min(1024)]).is_ok() {
        "text of no recognised type".to_owned()
    } else {
        "of no recognised type".to_owned()
    }
}

/// A file that passed [`check`]: its kind, its type (from its bytes) and the bytes to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub kind: Kind,
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

/// Decide an upload: its type from its bytes (one of the types of `accept`), its size against
/// its kind's limit, and — for photos — the bytes with their metadata stripped. `declared` (the
/// sender's Content-Type; empty or `application/octet-stream` when unknown) never decides the
/// type; it can only refuse: a file sent as a type that is not accepted, or as another accepted
/// type than its bytes are, is refused too.
pub fn check(accept: &[Kind], declared: &str, bytes: &[u8]) -> Result<Checked, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    let accepted = || accept.iter().flat_map(|k| k.types()).collect::<Vec<_>>();
    let Some(content_type) = sniff(bytes) else {
        return Err(MediaError::Unsupported {
            detected: describe(bytes),
            accepted: accepted(),
        });
    };
    let kind = Kind::of_type(content_type)
        .filter(|k| accept.contains(k))
        .ok_or_else(|| MediaError::Unsupported {
            detected: describe(bytes),
            accepted: accepted(),
        })?;
    if bytes.len() > kind.max_bytes() {
        return Err(MediaError::TooLarge {
            kind,
            max: kind.max_bytes(),
            size: bytes.len(),
        });
    }
    let declared = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let declared = match declared.as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg".to_owned(),
        _ => declared,
    };
    if !matches!(
        declared.as_str(),
        "" | "application/octet-stream" | "binary/octet-stream"
    ) {
        if Kind::of_type(&declared).is_none() {
            return Err(MediaError::DeclaredUnsupported {
                declared,
                accepted: accepted(),
            });
        }
        if declared != content_type {
            return Err(MediaError::Mismatch {
                declared,
                detected: content_type,
            });
        }
    }
    let data = match kind {
        Kind::Photo => strip_metadata(content_type, bytes),
        Kind::Document => bytes.to_vec(),
    };
    Ok(Checked {
        kind,
        content_type,
        data,
    })
}

/// JPEG markers of metadata segments: APP1 (EXIF, XMP), APP13 (IPTC), COM (comments).
const JPEG_APP1: u8 = 0xE1;
const JPEG_APP13: u8 = 0xED;
const JPEG_COM: u8 = 0xFE;
/// PNG chunks that carry metadata: EXIF, text (of which XMP), time.
const PNG_METADATA: [[u8; 4]; 5] = [*b"eXIf", *b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"];

/// The bytes of a photo without its EXIF/XMP/IPTC metadata (location, device, comments),
/// losslessly: the container's metadata parts are dropped, the picture's data is untouched. A
/// file without such parts — or whose container cannot be read — is returned as it was.
pub fn strip_metadata(content_type: &str, bytes: &[u8]) -> Vec<u8> {
    use img_parts::{Bytes, ImageEXIF};
    let owned = || Bytes::copy_from_slice(bytes);
    let stripped = match content_type {
        "image/jpeg" => img_parts::jpeg::Jpeg::from_bytes(owned()).ok().and_then(|mut j| {
            let meta = [JPEG_APP1, JPEG_APP13, JPEG_COM];
            if !j.segments().iter().any(|s| meta.contains(&s.marker())) {
                return None;
            }
            j.set_exif(None);
            for m in meta {
                j.remove_segments_by_marker(m);
            }
            Some(j.encoder().bytes())
        }),
        "image/png" => img_parts::png::Png::from_bytes(owned()).ok().and_then(|mut p| {
            if !p.chunks().iter().any(|c| PNG_METADATA.contains(&c.kind())) {
                return None;
            }
            for k in PNG_METADATA {
                p.remove_chunks_by_type(k);
            }
            Some(p.encoder().bytes())
        }),
        "image/webp" => img_parts::webp::WebP::from_bytes(owned()).ok().and_then(|mut w| {
            if !w.has_chunk(*b"EXIF") && !w.has_chunk(*b"XMP ") {
                return None;
            }
            w.remove_chunks_by_id(*b"XMP ");
            w.set_exif(None);
            Some(w.encoder().bytes())
        }),
        _ => None,
    };
    stripped.map(|b| b.to_vec()).unwrap_or_else(|| bytes.to_vec())
}

/// Whether a photo still carries EXIF or XMP metadata (for tests and audits).
pub fn has_metadata(content_type: &str, bytes: &[u8]) -> bool {
    strip_metadata(content_type, bytes) != bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

    /// A minimal JPEG: SOI, an APP1 EXIF segment with `exif`, a tiny scan, EOI.
    fn jpeg_with_exif(exif: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let body = [b"Exif\0\0".as_slice(), exif].concat();
        v.extend_from_slice(&[0xFF, 0xE1]);
        v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(&body);
        v.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0, 0x12, 0x34, 0xFF, 0xD9]);
        v
    }

    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(check(&[Kind::Photo], "", PNG).unwrap().content_type, "image/png");
        assert_eq!(
            check(&[Kind::Photo], "application/octet-stream", PNG)
                .unwrap()
                .content_type,
            "image/png"
        );
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        let e = check(&[Kind::Photo], "image/png", svg).unwrap_err();
        assert!(matches!(e, MediaError::Unsupported { .. }), "{e}");
        assert!(
            e.to_string().contains("SVG") && e.to_string().contains("image/jpeg"),
            "{e}"
        );
        let html = b"<!doctype html><html><script>alert(1)</script></html>";
        let e = check(&[Kind::Photo], "image/png", html).unwrap_err();
        assert!(e.to_string().contains("text/html"), "{e}");
        let pdf = b"%PDF-1.4 design";
        assert!(matches!(
            check(&[Kind::Photo], "", pdf),
            Err(MediaError::Unsupported { .. })
        ));
        assert_eq!(
            check(&[Kind::Photo, Kind::Document], "", pdf).unwrap().kind,
            Kind::Document
        );
        assert!(matches!(
            check(&[Kind::Photo, Kind::Document], "image/png", pdf),
            Err(MediaError::Mismatch { .. })
        ));
        assert_eq!(check(&[Kind::Photo], "", b""), Err(MediaError::Empty));
        assert!(matches!(
            check(&[Kind::Photo], "text/plain", PNG),
            Err(MediaError::DeclaredUnsupported { .. })
        ));
        assert!(check(&[Kind::Photo], "image/png; charset=x", PNG).is_ok());
    }

    #[test]
    fn one_size_table() {
        let mut big = PNG.to_vec();
        big.resize(PHOTO_MAX_BYTES + 1, 0);
        assert!(matches!(
            check(&[Kind::Photo], "", &big),
            Err(MediaError::TooLarge { kind: Kind::Photo, .. })
        ));
        big.truncate(PHOTO_MAX_BYTES);
        assert!(check(&[Kind::Photo], "", &big).is_ok());
        assert_eq!(body_limit(&[Kind::Photo]), PHOTO_MAX_BYTES + BODY_OVERHEAD_BYTES);
        assert_eq!(
            body_limit(&[Kind::Photo, Kind::Document]),
            DOCUMENT_MAX_BYTES + BODY_OVERHEAD_BYTES
        );
        assert_eq!(disposition("image/png", 3), "inline");
        assert_eq!(
            disposition("application/pdf", 3),
            "attachment; filename=\"media-3.pdf\""
        );
        assert_eq!(disposition("text/html", 3), "attachment; filename=\"media-3.bin\"");
    }

    #[test]
    fn exif_is_stripped_losslessly() {
        let jpeg = jpeg_with_exif(b"MM\0\x2a\0\0\0\x08GPS-secret");
        assert!(has_metadata("image/jpeg", &jpeg));
        let c = check(&[Kind::Photo], "image/jpeg", &jpeg).unwrap();
        assert!(!c.data.windows(10).any(|w| w == b"GPS-secret"));
        assert!(!has_metadata("image/jpeg", &c.data));
        assert!(c.data.ends_with(&[0x12, 0x34, 0xFF, 0xD9]), "the scan is kept");
        // A file without metadata, or one whose container is unreadable, is kept as it was.
        assert_eq!(strip_metadata("image/png", PNG), PNG);
        assert_eq!(strip_metadata("image/jpeg", b"\xFF\xD8\xFFjunk"), b"\xFF\xD8\xFFjunk");
    }
}
