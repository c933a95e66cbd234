//! Migration 0017 moves every stored file into the one media table: case photos, need photos,
//! attachments (SQL) and the base64 documents of milestone photos and proposal attachments (the
//! store, at its first start); old keys resolve, types come from the bytes, EXIF goes.

use base64::Engine as _;
use gongzhi_core::ids::CaseId;
use gongzhi_core::ids::PersonId;
use gongzhi_store::prelude::*;
use gongzhi_store::Store;
use sqlx::any::AnyPoolOptions;

const CITY: CityCode = CityCode::of("510100");
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";
const PDF: &[u8] = b"%PDF-1.4 design";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";

/// A JPEG whose APP1 segment carries EXIF with `GPS-secret` in it.
fn jpeg_with_exif() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let body = b"Exif\0\0MM\0\x2a\0\0\0\x08GPS-secret";
    v.extend_from_slice(&[0xFF, 0xE1]);
    v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0, 0x12, 0x34, 0xFF, 0xD9]);
    v
}

#[tokio::test]
async fn migration_0017_moves_every_file_into_media() {
    let (url, _dir) = gongzhi_testkit::fresh_url().await;
    Store::connect_before(&url, 17).await.expect("migrate to 0016");
    let raw_url = if url.starts_with("sqlite") {
        format!("{url}?mode=rwc")
    } else {
        url.clone()
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&raw_url)
        .await
        .unwrap();
    let exec = |sql: &'static str| sqlx::query(sql);
    // A case photo (with EXIF) that an Open311 request uploaded, and a private SVG "photo".
    exec("INSERT INTO photos (id, city, case_id, content_type, size, data, created_at) VALUES (17, $1, 12, 'image/jpeg', 3, $2, 100)")
        .bind(CITY.as_str())
        .bind(jpeg_with_exif())
        .execute(&pool)
        .await
        .unwrap();
    exec("INSERT INTO photos (id, city, case_id, content_type, size, data, created_at) VALUES (18, $1, 12, 'image/svg+xml', 3, $2, 101)")
        .bind(CITY.as_str())
        .bind(SVG.to_vec())
        .execute(&pool)
        .await
        .unwrap();
    exec("INSERT INTO open311_requests (city, case_id, service_code, attributes, photo_id, created_at) VALUES ($1, 12, 'x', '{}', 17, 100)")
        .bind(CITY.as_str())
        .execute(&pool)
        .await
        .unwrap();
    exec("INSERT INTO renewal_need_photos (id, city, need_id, content_type, size, data, created_at) VALUES (4, $1, 9, 'image/png', 3, $2, 102)")
        .bind(CITY.as_str())
        .bind(PNG.to_vec())
        .execute(&pool)
        .await
        .unwrap();
    exec("INSERT INTO attachments (id, city, owner, content_type, size, data, person_id, created_at) VALUES (8, $1, 'initiative:5:unit:A-1', 'image/png', 3, $2, 3, 103)")
        .bind(CITY.as_str())
        .bind(PNG.to_vec())
        .execute(&pool)
        .await
        .unwrap();
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    exec(
        "INSERT INTO documents (city, name, version, body, updated_at) VALUES ($1, 'renewal-proposal/9/0', 1, $2, 104)",
    )
    .bind(CITY.as_str())
    .bind(b64(PDF))
    .execute(&pool)
    .await
    .unwrap();
    exec(
        "INSERT INTO documents (city, name, version, body, updated_at) VALUES ($1, 'renewal_photo:3:7:1', 1, $2, 105)",
    )
    .bind(CITY.as_str())
    .bind(format!("data:image/png;base64,{}", b64(PNG)))
    .execute(&pool)
    .await
    .unwrap();
    exec("INSERT INTO documents (city, name, version, body, updated_at) VALUES ($1, 'catalogue', 1, 'a,b', 106)")
        .bind(CITY.as_str())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let s = Store::connect(&url).await.expect("migrate 0017");
    let by = |legacy: &'static str| {
        let s = s.clone();
        async move {
            let m = s
                .media_by_legacy(CITY, legacy)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{legacy}"));
            let stored = s.media(CITY, m.id).await.unwrap().unwrap();
            (m, stored.bytes)
        }
    };
    let (photo, data) = by("photos:17").await;
    assert_eq!((photo.owner.as_str(), photo.kind.as_str()), ("case:12", "photo"));
    assert_eq!(photo.content_type, "image/jpeg");
    assert!(photo.public, "an Open311 photo is public");
    assert!(!data.windows(10).any(|w| w == b"GPS-secret"), "EXIF stripped");
    assert!(data.ends_with(&[0x12, 0x34, 0xFF, 0xD9]));
    assert_eq!(photo.size, data.len() as i64);
    assert_eq!(photo.sha256.as_deref().map(str::len), Some(64));
    // The Open311 request now points at the media id.
    assert_eq!(s.open311_photo(CITY, photo.id).await.unwrap().unwrap().bytes, data);
    assert_eq!(s.photos(CITY, CaseId(12)).await.unwrap().len(), 2);

    let (svg, data) = by("photos:18").await;
    assert_eq!(svg.content_type, "application/octet-stream", "an SVG is no photo");
    assert_eq!(svg.kind, "document");
    assert!(!svg.public);
    assert_eq!(data, SVG);

    let (need, data) = by("renewal_need_photos:4").await;
    assert_eq!((need.owner.as_str(), data.as_slice()), ("need:9", PNG));
    assert_eq!(s.need_photos(CITY, 9).await.unwrap(), vec![need.clone()]);
    assert_eq!((need.content_type.as_str(), need.size), ("image/png", PNG.len() as i64));

    let (att, _) = by("attachments:8").await;
    assert_eq!((att.owner.as_str(), att.created_by), ("initiative:5:unit:A-1", Some(3)));
    assert_eq!(s.attachments(CITY, "initiative:5:").await.unwrap()[0].id, att.id);

    let (pdf, data) = by("documents:renewal-proposal/9/0").await;
    assert_eq!(
        (pdf.owner.as_str(), pdf.kind.as_str(), pdf.content_type.as_str()),
        ("proposal:9", "document", "application/pdf")
    );
    assert_eq!(data, PDF);
    assert!(pdf.public);
    let (ms, data) = by("documents:renewal_photo:3:7:1").await;
    assert_eq!((ms.owner.as_str(), data.as_slice()), ("milestone:3:7", PNG));
    assert_eq!(s.milestone_photo_id(CITY, "renewal_photo:3:7:1").await.unwrap(), ms.id);
    assert_eq!(ms.content_type, "image/png");

    // The documents moved are gone; the others stay. The old tables are gone.
    assert!(s.document(CITY, "renewal-proposal/9/0").await.unwrap().is_none());
    assert!(s.document(CITY, "catalogue").await.unwrap().is_some());
    // A second start changes nothing.
    s.close().await;
    let s = Store::connect(&url).await.unwrap();
    assert_eq!(s.media_of(CITY, "").await.unwrap().len(), 6);
}

#[tokio::test]
async fn writes_go_to_media_with_their_events() {
    let db = gongzhi_testkit::fresh_db().await;
    let s = &db.store;
    let id = s
        .add_photo(CITY, CaseId(5), "image/png", PNG, Some(PersonId(1)))
        .await
        .unwrap();
    let m = s.media_info(CITY, id).await.unwrap().unwrap();
    assert_eq!(
        (m.owner.as_str(), m.kind.as_str(), m.public),
        ("case:5", "photo", false)
    );
    let ev = s.events(CITY, "case:5:photos").await.unwrap();
    assert_eq!(ev[0].kind, "photo_added");
    assert_eq!(ev[0].payload["photo"], id);
    let name = s
        .add_proposal_file(
            CITY,
            9,
            0,
            &gongzhi_core::media::check(&[gongzhi_core::media::Kind::Document], "", PDF).unwrap(),
            Some(PersonId(1)),
        )
        .await
        .unwrap();
    assert_eq!(name, "renewal-proposal/9/0");
    let ev = s.events(CITY, "document:renewal-proposal/9/0").await.unwrap();
    assert_eq!(ev[0].kind, "document_changed");
    let m = s
        .media_by_legacy(CITY, "documents:renewal-proposal/9/0")
        .await
        .unwrap()
        .unwrap();
    assert!(m.public);
    assert_eq!(ev[0].payload["media"], m.id);
}
