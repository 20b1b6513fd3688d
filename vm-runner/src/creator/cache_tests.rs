use std::fs;
use std::path::Path;

use super::*;

const PACKAGES: &str = "\
Package: dash
Version: 0.5.12-2
Architecture: amd64
Size: 5
SHA256: 2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824
Filename: pool/main/d/dash/dash_0.5.12-2_amd64.deb

Package: bsdutils
Source: util-linux (2.38.1-5+deb12u3)
Version: 1:2.38.1-5+deb12u3
Architecture: amd64
Size: 5
SHA256: 486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7
Filename: pool/main/u/util-linux/bsdutils_2.38.1-5+deb12u3_amd64.deb
";

/// A root as mmdebstrap has it at the extract hook: indexes and `archives/`.
fn root_with(dir: &Path, files: &[(&str, &str)]) {
    fs::create_dir_all(dir.join(LISTS)).unwrap();
    fs::write(
        dir.join(LISTS)
            .join("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"),
        PACKAGES,
    )
    .unwrap();
    fs::write(dir.join(LISTS).join("lock"), "").unwrap();
    fs::create_dir_all(dir.join(ARCHIVES).join("partial")).unwrap();
    for (name, text) in files {
        fs::write(dir.join(ARCHIVES).join(name), text).unwrap();
    }
}

#[test]
fn the_index_names_files_as_apt_does_with_the_epoch_quoted() {
    let mut out = HashMap::new();
    read_packages(PACKAGES.as_bytes(), &mut out).unwrap();
    let mut names: Vec<&String> = out.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bsdutils_1%3a2.38.1-5+deb12u3_amd64.deb",
            "dash_0.5.12-2_amd64.deb"
        ]
    );
    assert_eq!(
        out["dash_0.5.12-2_amd64.deb"].sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "sha256(\"hello\"), lower-cased"
    );
}

#[test]
fn verification_keeps_good_files_and_drops_stale_and_corrupt_ones_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, cache) = (tmp.path().join("root"), tmp.path().join("cache"));
    let files = [
        ("dash_0.5.12-2_amd64.deb", "hello"),
        // Same size as the index says, other bytes: what apt alone would install.
        ("bsdutils_1%3a2.38.1-5+deb12u3_amd64.deb", "HELLO"),
        ("dash_0.5.11-1_amd64.deb", "older"),
    ];
    root_with(&root, &files);
    fs::create_dir_all(&cache).unwrap();
    for (name, text) in files {
        fs::write(cache.join(name), text).unwrap();
    }
    let found = verify(&root, &cache).unwrap();
    assert_eq!(
        found,
        Verified {
            good: 1,
            stale: vec!["dash_0.5.11-1_amd64.deb".into()],
            corrupt: vec!["bsdutils_1%3a2.38.1-5+deb12u3_amd64.deb".into()],
        }
    );
    for dir in [root.join(ARCHIVES), cache] {
        let left: Vec<String> = debs(&dir).unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(left, ["dash_0.5.12-2_amd64.deb"], "{}", dir.display());
    }
}

#[test]
fn without_an_index_nothing_is_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join(LISTS)).unwrap();
    fs::create_dir_all(tmp.path().join(ARCHIVES)).unwrap();
    let e = verify(tmp.path(), tmp.path()).unwrap_err().to_string();
    assert!(e.contains("no package index"), "{e}");
}

#[test]
fn keeping_moves_downloads_in_and_counts_unchanged_files_as_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = PackageCache::open_for(tmp.path(), "amd64-0123456789abcdef").unwrap();
    fs::write(cache.dir().join("a_1_all.deb"), "a").unwrap();
    // The hooks keep file times, so a file from the cache comes back as it went in.
    fs::copy(
        cache.dir().join("a_1_all.deb"),
        cache.staging.join("a_1_all.deb"),
    )
    .unwrap();
    let time = fs::metadata(cache.dir().join("a_1_all.deb"))
        .unwrap()
        .modified()
        .unwrap();
    fs::File::options()
        .write(true)
        .open(cache.staging.join("a_1_all.deb"))
        .unwrap()
        .set_modified(time)
        .unwrap();
    fs::write(cache.staging.join("b_1_all.deb"), "b").unwrap();
    fs::write(cache.staging.join("lock"), "").unwrap();
    assert_eq!(
        cache.keep().unwrap(),
        Kept {
            reused: 1,
            downloaded: 1
        }
    );
    assert_eq!(fs::read(cache.dir().join("b_1_all.deb")).unwrap(), b"b");
    assert!(!cache.dir().join("lock").exists());
    let staging = cache.staging.clone();
    drop(cache);
    assert!(
        !staging.exists(),
        "the staging directory goes with the build"
    );
}

#[test]
fn caches_are_kept_per_repository_set() {
    let sources = |url: &str| vec![format!("deb {url} bookworm main")];
    let a = key(
        "amd64",
        "bookworm",
        &sources("http://deb.debian.org/debian"),
    );
    assert_eq!(a.len(), "amd64-".len() + 16);
    assert!(a.starts_with("amd64-"));
    assert_eq!(
        a,
        key(
            "amd64",
            "bookworm",
            &sources("http://deb.debian.org/debian")
        )
    );
    assert_ne!(
        a,
        key("amd64", "bookworm", &sources("http://evil.example/debian"))
    );
    assert_ne!(
        a,
        key("i386", "bookworm", &sources("http://deb.debian.org/debian"))
    );
}

#[test]
fn the_hooks_quote_paths_and_cache_paths_with_spaces_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = PackageCache::open_for(tmp.path(), "amd64-0123456789abcdef").unwrap();
    let args = cache.mmdebstrap_args(Path::new("/usr/local/bin/img creator"));
    let extract = args
        .iter()
        .find(|a| a.starts_with("--extract-hook="))
        .unwrap();
    assert_eq!(
        extract,
        &format!(
            "--extract-hook='/usr/local/bin/img creator' {VERIFY_COMMAND} \"$1\" {}",
            cache.dir().display()
        )
    );
    let spaced = tmp.path().join("a b");
    let e = PackageCache::open_for(&spaced, "k")
        .unwrap_err()
        .to_string();
    assert!(e.contains("without spaces"), "{e}");
}
