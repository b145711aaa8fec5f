//! The archive reader on built archives: every container, nesting, damage and limits.

use super::*;
use std::io::Write;

// ---- builders -------------------------------------------------------------------------

enum Kind {
    File(Vec<u8>),
    Dir,
    Symlink(&'static str),
    Hardlink(&'static str),
    Fifo,
}

/// A tar built header by header, so that hostile names (`..`, absolute, non-UTF-8) can be
/// written as they are.
fn tar_of(members: &[(&[u8], Kind)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind) in members {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_mode(0o644);
        h.set_mtime(1_720_000_000);
        let data: &[u8] = match kind {
            Kind::File(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                d
            }
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                &[]
            }
            Kind::Symlink(t) | Kind::Hardlink(t) => {
                let ty = if matches!(kind, Kind::Symlink(_)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                h.set_entry_type(ty);
                h.set_link_name(t).unwrap();
                &[]
            }
            Kind::Fifo => {
                h.set_entry_type(tar::EntryType::Fifo);
                &[]
            }
        };
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn files(members: &[(&str, Vec<u8>)]) -> Vec<(&'static [u8], Kind)> {
    members
        .iter()
        .map(|(n, d)| {
            let name: &'static [u8] = Box::leak(n.as_bytes().to_vec().into_boxed_slice());
            (name, Kind::File(d.clone()))
        })
        .collect()
}

fn gz(data: &[u8], fname: Option<&str>) -> Vec<u8> {
    let mut b = flate2::GzBuilder::new();
    if let Some(f) = fname {
        b = b.filename(f);
    }
    let mut e = b.write(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Text that compresses like a log (so that cuts land inside members).
fn log_text(seed: u64, lines: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::new();
    for i in 0..lines {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let line = format!(
            "[2024/07/09 16:25:{:02}.{:03} +08:00] [INFO] [raft.rs:{}] [region_id={}] [x={x:x}]\n",
            i % 60,
            i % 1000,
            x % 3000,
            x % 100_000
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn run(display: &str, bytes: &[u8], limits: &Limits) -> (Vec<Entry>, u64) {
    let mut entries = Vec::new();
    let total = read(display, bytes, limits, &mut |e| entries.push(e));
    (entries, total)
}

fn members(entries: &[Entry]) -> Vec<(String, Vec<u8>)> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Member(m) => Some((m.path.clone(), m.data.clone())),
            Entry::Problem(_) => None,
        })
        .collect()
}

fn problems(entries: &[Entry]) -> Vec<Problem> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Problem(p) => Some(p.clone()),
            Entry::Member(_) => None,
        })
        .collect()
}

/// The three members of a small bundle: a log, a rotated gzip log, a JSON file.
fn bundle_members() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("tikv-1/log/tikv.log", log_text(1, 50)),
        ("pd/pd.log.gz", gz(&log_text(2, 50), Some("pd.log"))),
        ("cluster.json", br#"{"cluster_name":"t"}"#.to_vec()),
    ]
}

fn strip_prefix(list: Vec<(String, Vec<u8>)>, prefix: &str) -> Vec<(String, Vec<u8>)> {
    list.into_iter()
        .map(|(p, d)| (p.strip_prefix(prefix).unwrap_or(&p).to_string(), d))
        .collect()
}

// ---- detection ------------------------------------------------------------------------

#[test]
fn detect_by_magic() {
    assert_eq!(detect(&gz(b"x", None)), Some(Container::Gzip));
    assert_eq!(detect(&zst(b"x")), Some(Container::Zstd));
    assert_eq!(
        detect(&zip_of(&[("a", b"x".to_vec())])),
        Some(Container::Zip)
    );
    assert_eq!(detect(&zip_of(&[])), Some(Container::Zip));
    assert_eq!(
        detect(&tar_of(&files(&[("a", b"x".to_vec())]))),
        Some(Container::Tar)
    );
    assert_eq!(detect(b"plain text log line\n"), None);
    assert_eq!(detect(&[]), None);
    assert_eq!(detect(&[0u8; 1024]), None);
    // A pre-POSIX header: no `ustar` magic, only the checksum.
    let mut v7 = [0u8; 512];
    v7[..5].copy_from_slice(b"a.log");
    v7[100..108].copy_from_slice(b"0000644\0");
    v7[124..136].copy_from_slice(b"00000000003\0");
    let sum: u32 = v7.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * 32;
    v7[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    assert_eq!(detect(&v7), Some(Container::Tar));
    v7[0] = b'b';
    assert_eq!(detect(&v7), None);
}

// ---- layouts --------------------------------------------------------------------------

#[test]
fn tar_gz_with_nested_rotated_gz() {
    let mut list = files(&bundle_members());
    list.insert(0, (b"tikv-1/", Kind::Dir));
    let tgz = gz(&tar_of(&list), None);
    let (entries, total) = run("bundle.tar.gz", &tgz, &Limits::default());
    let got = members(&entries);
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "bundle.tar.gz!/tikv-1/log/tikv.log",
            "bundle.tar.gz!/pd/pd.log.gz!/pd.log",
            "bundle.tar.gz!/cluster.json",
        ]
    );
    assert_eq!(got[0].1, log_text(1, 50));
    assert_eq!(got[1].1, log_text(2, 50));
    assert!(problems(&entries).is_empty());
    assert_eq!(total, got.iter().map(|(_, d)| d.len() as u64).sum::<u64>());
}

#[test]
fn zip_gives_same_members_as_tar_gz() {
    let tgz = gz(&tar_of(&files(&bundle_members())), None);
    let zip = zip_of(&bundle_members());
    let (a, ta) = run("b.tar.gz", &tgz, &Limits::default());
    let (b, tb) = run("b.zip", &zip, &Limits::default());
    assert_eq!(
        strip_prefix(members(&a), "b.tar.gz!/"),
        strip_prefix(members(&b), "b.zip!/")
    );
    assert_eq!(members(&b).len(), 3);
    assert_eq!(ta, tb);
    assert!(problems(&b).is_empty());
}

#[test]
fn plain_tar_and_tar_zst() {
    let tar = tar_of(&files(&bundle_members()));
    let (plain, _) = run("b.tar", &tar, &Limits::default());
    let (zstd, _) = run("b.tar.zst", &zst(&tar), &Limits::default());
    assert_eq!(members(&plain).len(), 3);
    assert_eq!(
        strip_prefix(members(&plain), "b.tar!/"),
        strip_prefix(members(&zstd), "b.tar.zst!/")
    );
}

#[test]
fn single_gz_and_zst() {
    let text = log_text(3, 20);
    let (e, total) = run("logs/pd.log.gz", &gz(&text, None), &Limits::default());
    assert_eq!(
        members(&e),
        [("logs/pd.log.gz!/pd.log".to_string(), text.clone())]
    );
    assert_eq!(total, text.len() as u64);
    // The FNAME header wins over the outer name.
    let (e, _) = run("x.gz", &gz(&text, Some("pd-2024.log")), &Limits::default());
    assert_eq!(members(&e)[0].0, "x.gz!/pd-2024.log");
    let (e, _) = run("tikv.log.zst", &zst(&text), &Limits::default());
    assert_eq!(
        members(&e),
        [("tikv.log.zst!/tikv.log".to_string(), text.clone())]
    );
    let (e, _) = run("tikv.log.ZSTD", &zst(&text), &Limits::default());
    assert_eq!(members(&e)[0].0, "tikv.log.ZSTD!/tikv.log");
}

#[test]
fn json_that_is_zstd() {
    let body = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
    let (e, _) = run("m.json", &zst(body), &Limits::default());
    assert_eq!(members(&e), [("m.json!/m.json".to_string(), body.to_vec())]);
    // Inside a bundle, the same dump is opened one level down.
    let tgz = gz(
        &tar_of(&files(&[("monitor/metrics/m.json", zst(body))])),
        None,
    );
    let (e, _) = run("diag.tar.gz", &tgz, &Limits::default());
    assert_eq!(
        members(&e),
        [(
            "diag.tar.gz!/monitor/metrics/m.json!/m.json".to_string(),
            body.to_vec()
        )]
    );
}

#[test]
fn archives_nested_in_other_kinds() {
    let inner_tar = tar_of(&files(&[("a.log", b"A".to_vec())]));
    let inner_zip = zip_of(&[("b.log", b"B".to_vec())]);
    let outer = zip_of(&[("in.tar", inner_tar), ("in.zip", inner_zip.clone())]);
    let (e, _) = run("o.zip", &outer, &Limits::default());
    assert_eq!(
        members(&e),
        [
            ("o.zip!/in.tar!/a.log".to_string(), b"A".to_vec()),
            ("o.zip!/in.zip!/b.log".to_string(), b"B".to_vec()),
        ]
    );
    let tgz = gz(&tar_of(&files(&[("x/in.zip", inner_zip)])), None);
    let (e, _) = run("o.tgz", &tgz, &Limits::default());
    assert_eq!(
        members(&e),
        [("o.tgz!/x/in.zip!/b.log".to_string(), b"B".to_vec())]
    );
}

// ---- damage ---------------------------------------------------------------------------

#[test]
fn truncated_tar_gz_keeps_members_before_the_cut() {
    let parts: Vec<(&str, Vec<u8>)> = vec![
        ("a.log", log_text(10, 4000)),
        ("b.log", log_text(11, 4000)),
        ("c.log", log_text(12, 4000)),
        ("d.log", log_text(13, 4000)),
    ];
    let tgz = gz(&tar_of(&files(&parts)), None);
    let (e, _) = run("cut.tar.gz", &tgz[..tgz.len() / 2], &Limits::default());
    let got = members(&e);
    assert!(!got.is_empty() && got.len() < 4, "{got:?}");
    for (i, (path, data)) in got.iter().enumerate() {
        assert_eq!(path, &format!("cut.tar.gz!/{}", parts[i].0));
        assert_eq!(data, &parts[i].1);
    }
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "cut.tar.gz");
    assert_eq!(p[0].status, ProblemStatus::Failed);
    assert!(
        p[0].reason
            .starts_with("gzip: unexpected end of stream after "),
        "{}",
        p[0].reason
    );
    assert!(p[0].reason.contains(parts[got.len()].0), "{}", p[0].reason);
}

#[test]
fn tar_gz_checksum_is_verified_after_the_tar_ends() {
    let mut tgz = gz(&tar_of(&files(&bundle_members())), None);
    let crc_at = tgz.len() - 8;
    tgz[crc_at] ^= 0xff;
    let (e, _) = run("b.tar.gz", &tgz, &Limits::default());
    assert_eq!(members(&e).len(), 3);
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "b.tar.gz");
    assert!(p[0].reason.contains("checksum"), "{}", p[0].reason);
    assert!(p[0].reason.contains("may be damaged"), "{}", p[0].reason);
}

#[test]
fn truncated_single_gz_fails_the_member() {
    let text = log_text(20, 5000);
    let g = gz(&text, None);
    let (e, total) = run("pd.log.gz", &g[..g.len() / 2], &Limits::default());
    assert_eq!(total, 0);
    assert!(members(&e).is_empty());
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "pd.log.gz!/pd.log");
    assert_eq!(p[0].status, ProblemStatus::Failed);
    assert!(
        p[0].reason
            .starts_with("gzip: unexpected end of stream after ")
    );
    assert!(p[0].reason.contains("were not analysed"), "{}", p[0].reason);
    // Cut inside the header: still one problem, never a panic.
    let (e, _) = run("pd.log.gz", &g[..5], &Limits::default());
    assert_eq!(problems(&e).len(), 1);
    let (e, _) = run("m.zst", &zst(&text)[..40], &Limits::default());
    assert_eq!(problems(&e)[0].path, "m.zst!/m");
    assert!(problems(&e)[0].reason.starts_with("zstd: "));
}

#[test]
fn truncated_plain_tar() {
    let parts: Vec<(&str, Vec<u8>)> =
        vec![("a.log", log_text(30, 100)), ("b.log", log_text(31, 100))];
    let tar = tar_of(&files(&parts));
    let cut = 512 + parts[0].1.len().div_ceil(512) * 512 + 512 + 100;
    let (e, _) = run("t.tar", &tar[..cut], &Limits::default());
    assert_eq!(
        members(&e),
        [("t.tar!/a.log".to_string(), parts[0].1.clone())]
    );
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "t.tar");
    assert!(p[0].reason.starts_with("tar: "), "{}", p[0].reason);
    assert!(p[0].reason.contains("b.log"), "{}", p[0].reason);
}

#[test]
fn corrupt_tar_header() {
    let parts: Vec<(&str, Vec<u8>)> =
        vec![("a.log", b"first".to_vec()), ("b.log", b"second".to_vec())];
    let mut tar = tar_of(&files(&parts));
    tar[1024 + 10] ^= 0x55; // inside the second header's name
    let (e, _) = run("t.tar", &tar, &Limits::default());
    assert_eq!(
        members(&e),
        [("t.tar!/a.log".to_string(), b"first".to_vec())]
    );
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].reason,
        "tar: corrupt member header (checksum mismatch); everything after member `a.log` in the archive was not read"
    );
}

#[test]
fn corrupt_zip() {
    let mut garbage = b"PK\x03\x04".to_vec();
    garbage.extend((0..5000u32).map(|i| (i * 7919 % 251) as u8));
    let (e, _) = run("g.zip", &garbage, &Limits::default());
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].status, ProblemStatus::Failed);
    assert_eq!(
        p[0].reason,
        "zip: central directory not found (truncated or not a zip)"
    );

    let zip = zip_of(&bundle_members());
    let (e, _) = run("t.zip", &zip[..zip.len() - 30], &Limits::default());
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "t.zip");
    assert!(p[0].reason.starts_with("zip: "), "{}", p[0].reason);

    // Damaged member data: that member fails, the others are read.
    let mut zip = zip_of(&[("a.log", log_text(40, 200)), ("b.log", b"ok".to_vec())]);
    zip[30 + 5 + 200] ^= 0xff;
    let (e, _) = run("d.zip", &zip, &Limits::default());
    assert_eq!(members(&e), [("d.zip!/b.log".to_string(), b"ok".to_vec())]);
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "d.zip!/a.log");
    assert!(p[0].reason.starts_with("zip: "), "{}", p[0].reason);
}

#[test]
fn encrypted_and_unsupported_zip_members() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let secret =
        zip::write::SimpleFileOptions::default().with_aes_encryption(zip::AesMode::Aes256, "pw");
    w.start_file("secret.log", secret).unwrap();
    w.write_all(b"hidden").unwrap();
    w.start_file("plain.log", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"open").unwrap();
    let zip = w.finish().unwrap().into_inner();
    let (e, _) = run("enc.zip", &zip, &Limits::default());
    assert_eq!(
        members(&e),
        [("enc.zip!/plain.log".to_string(), b"open".to_vec())]
    );
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "enc.zip!/secret.log");
    assert_eq!(p[0].status, ProblemStatus::Skipped);

    // Method 1 (shrink) is not compiled in: patch it into the local and central headers.
    let mut zip = zip_with_raw_deflate("old.bin", &deflate_piece(b"x"), 1);
    let cd = zip.len() - 22 - (46 + 7);
    zip[8] = 1;
    zip[cd + 10] = 1;
    let (e, _) = run("old.zip", &zip, &Limits::default());
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "old.zip!/old.bin");
    assert_eq!(p[0].status, ProblemStatus::Failed);
    assert!(
        p[0].reason.starts_with("zip: compression method "),
        "{}",
        p[0].reason
    );
    assert!(p[0].reason.ends_with(" not supported"), "{}", p[0].reason);
}

#[test]
fn not_an_archive() {
    let (e, total) = run("x.log", b"just a log line\n", &Limits::default());
    assert_eq!(total, 0);
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "x.log");
    assert_eq!(p[0].status, ProblemStatus::Failed);
}

// ---- bombs and limits -----------------------------------------------------------------

/// `data` deflated and fully flushed: such pieces can be concatenated into one stream.
fn deflate_piece(data: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() + 1024);
    c.compress_vec(data, &mut out, flate2::FlushCompress::Full)
        .unwrap();
    assert_eq!(c.total_in(), data.len() as u64);
    out
}

/// A raw deflate stream of `prefix` then `mib` MiB of zeros, built from one flushed MiB
/// repeated (fast even in debug builds).
fn deflated_zeros_after(prefix: &[u8], mib: usize) -> Vec<u8> {
    let chunk = deflate_piece(&vec![0u8; 1 << 20]);
    let mut out = deflate_piece(prefix);
    for _ in 0..mib {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&[0x03, 0x00]); // an empty final block
    out
}

fn deflated_zeros(mib: usize) -> Vec<u8> {
    deflated_zeros_after(&[], mib)
}

/// A zip with one deflated member, written by hand around a ready deflate stream.
fn zip_with_raw_deflate(name: &str, deflated: &[u8], size: u32) -> Vec<u8> {
    let mut z = Vec::new();
    let n = name.len() as u16;
    let local = |z: &mut Vec<u8>| {
        z.extend_from_slice(b"PK\x03\x04");
        z.extend_from_slice(&20u16.to_le_bytes()); // version needed
        z.extend_from_slice(&0u16.to_le_bytes()); // flags
        z.extend_from_slice(&8u16.to_le_bytes()); // deflate
        z.extend_from_slice(&[0; 4]); // time, date
        z.extend_from_slice(&0u32.to_le_bytes()); // crc (never reached)
        z.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
        z.extend_from_slice(&size.to_le_bytes());
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
    };
    local(&mut z);
    z.extend_from_slice(deflated);
    let cd_start = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02");
    z.extend_from_slice(&20u16.to_le_bytes()); // made by
    z.extend_from_slice(&20u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(&8u16.to_le_bytes());
    z.extend_from_slice(&[0; 4]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(&(deflated.len() as u32).to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attrs
    z.extend_from_slice(&0u32.to_le_bytes()); // external attrs
    z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    z.extend_from_slice(name.as_bytes());
    let cd_len = z.len() as u32 - cd_start;
    z.extend_from_slice(b"PK\x05\x06");
    z.extend_from_slice(&[0; 4]);
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd_start.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

#[test]
fn zip_bomb_stops_on_ratio() {
    let deflated = deflated_zeros(200);
    assert!(deflated.len() < 1 << 20);
    // 200 MiB of zeros in about 200 KiB: the ratio check stops it after 64 MiB.
    let bomb = zip_with_raw_deflate("zeros.bin", &deflated, 200 << 20);
    let (e, total) = run("bomb.zip", &bomb, &Limits::default());
    assert_eq!(total, 0);
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "bomb.zip!/zeros.bin");
    assert_eq!(p[0].status, ProblemStatus::Failed);
    assert_eq!(
        p[0].reason,
        "decompression stopped: more than 200x the compressed size (possible decompression \
         bomb); raise --max-ratio to read it"
    );
    // Inside another zip, the members after it are still read.
    let outer = zip_of(&[("bomb.zip", bomb), ("ok.log", b"fine".to_vec())]);
    let (e, _) = run("outer.zip", &outer, &Limits::default());
    assert_eq!(
        members(&e),
        [("outer.zip!/ok.log".to_string(), b"fine".to_vec())]
    );
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "outer.zip!/bomb.zip!/zeros.bin");
}

#[test]
fn gzip_bomb_in_tar_stops_on_ratio() {
    let mut g = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    g.extend_from_slice(&deflated_zeros(100));
    g.extend_from_slice(&[0; 8]); // crc and size (never reached)
    let tar = tar_of(&files(&[
        ("a.log", b"before".to_vec()),
        ("z.log.gz", g),
        ("b.log", b"after".to_vec()),
    ]));
    let (e, _) = run("b.tar", &tar, &Limits::default());
    assert_eq!(
        members(&e),
        [
            ("b.tar!/a.log".to_string(), b"before".to_vec()),
            ("b.tar!/b.log".to_string(), b"after".to_vec()),
        ]
    );
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "b.tar!/z.log.gz!/z.log");
    assert!(
        p[0].reason.contains("200x the compressed size"),
        "{}",
        p[0].reason
    );
}

#[test]
fn tar_gz_bomb_stops_the_archive() {
    // A tar whose second member is 100 MiB of zeros, gzipped to about 100 KiB.
    let mut tar = tar_of(&files(&[("a.log", b"before".to_vec())]));
    tar.truncate(1024); // drop the end-of-archive blocks
    let mut h = tar::Header::new_gnu();
    h.set_path("zeros.bin").unwrap();
    h.set_size(100 << 20);
    h.set_cksum();
    tar.extend_from_slice(h.as_bytes());
    let mut tgz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    tgz.extend_from_slice(&deflated_zeros_after(&tar, 100));
    tgz.extend_from_slice(&[0; 8]); // crc and size (never reached)
    let (e, _) = run("bomb.tar.gz", &tgz, &Limits::default());
    assert_eq!(
        members(&e),
        [("bomb.tar.gz!/a.log".to_string(), b"before".to_vec())]
    );
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "bomb.tar.gz");
    assert!(
        p[0].reason
            .starts_with("decompression stopped: more than 200x"),
        "{}",
        p[0].reason
    );
    assert!(p[0].reason.contains("zeros.bin"), "{}", p[0].reason);
}

#[test]
fn total_limit_stops_everything() {
    let parts: Vec<(&str, Vec<u8>)> = (0..6)
        .map(|i| (["a", "b", "c", "d", "e", "f"][i], vec![b'x'; 300 << 10]))
        .collect();
    let tgz = gz(&tar_of(&files(&parts)), None);
    let limits = Limits {
        max_total_bytes: 1 << 20,
        ..Limits::default()
    };
    let (e, total) = run("big.tar.gz", &tgz, &limits);
    let got = members(&e);
    assert!(got.len() >= 2 && got.len() < 4, "{}", got.len());
    assert_eq!(total, got.len() as u64 * (300 << 10));
    let p = problems(&e);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "big.tar.gz");
    assert!(
        p[0].reason.starts_with(
            "decompression stopped: more than 1.0 MiB decompressed in total (possible \
             decompression bomb)"
        ),
        "{}",
        p[0].reason
    );
    assert!(matches!(e.last(), Some(Entry::Problem(_))));
}

#[test]
fn member_size_and_count_limits() {
    let parts: Vec<(&str, Vec<u8>)> = vec![
        ("small", vec![1; 10]),
        ("large", vec![2; 5000]),
        ("small2", vec![3; 10]),
    ];
    let limits = Limits {
        max_member_bytes: 1000,
        ..Limits::default()
    };
    for (name, bytes) in [
        ("s.tar", tar_of(&files(&parts))),
        ("s.tar.gz", gz(&tar_of(&files(&parts)), None)),
        ("s.zip", zip_of(&parts)),
    ] {
        let (e, _) = run(name, &bytes, &limits);
        assert_eq!(members(&e).len(), 2, "{name}");
        let p = problems(&e);
        assert_eq!(p.len(), 1, "{name}");
        assert_eq!(p[0].path, format!("{name}!/large"));
        assert_eq!(p[0].reason, "member larger than 1000 bytes, not read");
    }
    let limits = Limits {
        max_members: 2,
        ..Limits::default()
    };
    let (e, _) = run("s.zip", &zip_of(&parts), &limits);
    assert_eq!(members(&e).len(), 2);
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "s.zip");
    assert!(p[0].reason.starts_with("more than 2 archive members"));
}

// ---- hostile and odd members ----------------------------------------------------------

#[test]
fn dotdot_and_absolute_names_are_read_but_sanitised() {
    let canary = "kvtriage-archive-test-canary";
    let dotdot = format!("../../tmp/{canary}");
    let list: Vec<(&[u8], Kind)> = vec![
        (b"../../etc/passwd", Kind::File(b"root:x:0:0".to_vec())),
        (b"/abs/file.log", Kind::File(b"abs".to_vec())),
        (b"./rel//x/./y.log", Kind::File(b"rel".to_vec())),
        (dotdot.as_bytes(), Kind::File(b"canary".to_vec())),
    ];
    let (e, _) = run("evil.tar", &tar_of(&list), &Limits::default());
    assert_eq!(
        members(&e),
        [
            (
                "evil.tar!/__/__/etc/passwd".to_string(),
                b"root:x:0:0".to_vec()
            ),
            ("evil.tar!/abs/file.log".to_string(), b"abs".to_vec()),
            ("evil.tar!/rel/x/y.log".to_string(), b"rel".to_vec()),
            (format!("evil.tar!/__/__/tmp/{canary}"), b"canary".to_vec()),
        ]
    );
    assert!(!std::path::Path::new("/tmp").join(canary).exists());
    let zip = zip_of(&[("../up.log", b"u".to_vec())]);
    let (e, _) = run("evil.zip", &zip, &Limits::default());
    assert_eq!(
        members(&e),
        [("evil.zip!/__/up.log".to_string(), b"u".to_vec())]
    );
}

#[test]
fn links_and_special_members_are_skipped() {
    let list: Vec<(&[u8], Kind)> = vec![
        (b"log/current", Kind::Symlink("/etc/shadow")),
        (b"log/hard", Kind::Hardlink("log/a")),
        (b"log/pipe", Kind::Fifo),
        (b"log/a", Kind::File(b"a".to_vec())),
    ];
    let (e, _) = run("l.tar", &tar_of(&list), &Limits::default());
    let p = problems(&e);
    let got: Vec<(&str, ProblemStatus, &str)> = p
        .iter()
        .map(|p| (p.path.as_str(), p.status, p.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "l.tar!/log/current",
                ProblemStatus::Skipped,
                "symlink member (not followed)"
            ),
            (
                "l.tar!/log/hard",
                ProblemStatus::Skipped,
                "hardlink member (not followed)"
            ),
            (
                "l.tar!/log/pipe",
                ProblemStatus::Skipped,
                "fifo member (not read)"
            ),
        ]
    );
    assert_eq!(members(&e), [("l.tar!/log/a".to_string(), b"a".to_vec())]);

    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.add_symlink("cur", "/etc/shadow", opts).unwrap();
    w.add_directory("d/", opts).unwrap();
    let zip = w.finish().unwrap().into_inner();
    let (e, _) = run("l.zip", &zip, &Limits::default());
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "l.zip!/cur");
    assert_eq!(p[0].status, ProblemStatus::Skipped);
    assert_eq!(p[0].reason, "symlink member (not followed)");
    assert!(members(&e).is_empty());
}

#[test]
fn empty_members_are_delivered() {
    let parts: Vec<(&str, Vec<u8>)> = vec![("empty.log", Vec::new()), ("x", b"x".to_vec())];
    for (name, bytes) in [
        ("e.tar.gz", gz(&tar_of(&files(&parts)), None)),
        ("e.zip", zip_of(&parts)),
    ] {
        let (e, _) = run(name, &bytes, &Limits::default());
        assert_eq!(members(&e)[0], (format!("{name}!/empty.log"), Vec::new()));
    }
    let (e, _) = run("empty.log.gz", &gz(b"", None), &Limits::default());
    assert_eq!(
        members(&e),
        [("empty.log.gz!/empty.log".to_string(), Vec::new())]
    );
}

#[test]
fn non_utf8_names_are_shown_lossily() {
    let list: Vec<(&[u8], Kind)> = vec![(b"logs/t\xffikv\x1b.log", Kind::File(b"x".to_vec()))];
    let (e, _) = run("n.tar", &tar_of(&list), &Limits::default());
    assert_eq!(members(&e)[0].0, "n.tar!/logs/t\u{FFFD}ikv?.log");
    let (e, _) = run(
        "n.gz",
        &gz(b"x", Some("r\u{e9}sum\u{e9}")),
        &Limits::default(),
    );
    assert_eq!(members(&e)[0].0, "n.gz!/r\u{e9}sum\u{e9}");
}

#[test]
fn depth_limit() {
    let text = b"innermost".to_vec();
    let gzgz = gz(&gz(&text, None), None);
    let tgz = gz(&tar_of(&files(&[("a.log.gz.gz", gzgz)])), None);
    let (e, _) = run("b.tar.gz", &tgz, &Limits::default());
    assert!(members(&e).is_empty());
    let p = problems(&e);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].path, "b.tar.gz!/a.log.gz.gz!/a.log.gz");
    assert_eq!(p[0].status, ProblemStatus::Skipped);
    assert!(
        p[0].reason
            .starts_with("nested archive deeper than 2 levels, not opened"),
        "{}",
        p[0].reason
    );
    let deeper = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let (e, _) = run("b.tar.gz", &tgz, &deeper);
    assert_eq!(
        members(&e),
        [("b.tar.gz!/a.log.gz.gz!/a.log.gz!/a.log".to_string(), text)]
    );
    // max_depth 1: the top level is still opened, nothing inside it.
    let shallow = Limits {
        max_depth: 1,
        ..Limits::default()
    };
    let (e, _) = run("b.tar.gz", &tgz, &shallow);
    assert_eq!(problems(&e)[0].path, "b.tar.gz!/a.log.gz.gz");
}

// ---- robustness -----------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn never_panics_on_mutated_input() {
    let mut list = files(&bundle_members());
    list.push((b"l", Kind::Symlink("x")));
    let tar = tar_of(&list);
    let seeds = [
        gz(&tar, None),
        zst(&tar),
        tar.clone(),
        zip_of(&bundle_members()),
        gz(&log_text(5, 30), Some("x.log")),
    ];
    let limits = Limits {
        max_total_bytes: 16 << 20,
        max_member_bytes: 4 << 20,
        ..Limits::default()
    };
    // ARCHIVE_FUZZ_SEED / ARCHIVE_FUZZ_ROUNDS allow longer runs by hand (e.g. --release).
    let mut rng = XorShift(
        std::env::var("ARCHIVE_FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0x9e37_79b9_7f4a_7c15),
    );
    let rounds: usize = std::env::var("ARCHIVE_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    for round in 0..rounds {
        let seed = &seeds[round % seeds.len()];
        let mut buf = if round % 10 == 9 {
            let len = rng.below(2048);
            let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Give random bytes a container's magic, so they reach a parser.
            let magic: &[u8] =
                [&b"\x1f\x8b"[..], b"\x28\xb5\x2f\xfd", b"PK\x03\x04", b""][rng.below(4)];
            b.splice(0..0, magic.iter().copied());
            b
        } else {
            seed.clone()
        };
        let edits = 1 + rng.below(8);
        for _ in 0..edits {
            if buf.is_empty() {
                break;
            }
            let at = rng.below(buf.len());
            match rng.below(5) {
                0 => buf[at] ^= 1 << rng.below(8),
                1 => buf[at] = rng.next() as u8,
                2 => buf.truncate(at),
                3 => {
                    let len = rng.below(64).min(buf.len() - at);
                    buf.drain(at..at + len);
                }
                _ => {
                    let chunk: Vec<u8> = (0..rng.below(32)).map(|_| rng.next() as u8).collect();
                    buf.splice(at..at, chunk);
                }
            }
        }
        let (first, t1) = run("fuzz.bin", &buf, &limits);
        let (second, t2) = run("fuzz.bin", &buf, &limits);
        assert_eq!(first, second, "round {round}: not deterministic");
        assert_eq!(t1, t2);
    }
}

#[test]
fn helpers() {
    assert_eq!(human(10), "10 B");
    assert_eq!(human(1_258_291), "1.2 MiB");
    assert_eq!(human(8 << 30), "8.0 GiB");
    assert_eq!(display_name(b"/"), "_");
    assert_eq!(display_name(b"a/../b"), "a/__/b");
    assert_eq!(inner_name("x/b.tgz", Container::Gzip, None), "b.tar");
    assert_eq!(inner_name("m.json", Container::Zstd, None), "m.json");
    assert_eq!(
        inner_name("a.gz", Container::Gzip, Some(b"/tmp/../a.log".to_vec())),
        "a.log"
    );
}
