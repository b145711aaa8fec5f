//! Embeds the built-in rules in the binary: every `rules/<product>/<id>.toml`, and the files
//! of its test cases (`rules/<product>/<id>/<case>/...`), so that `kvtriage rules test` runs
//! anywhere. Both in name order.
use std::{env, fs, path::Path};

fn sorted(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for p in sorted(dir) {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let root = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("rules");
    let mut rules = String::from("pub static BUILTIN_RULES: &[(&str, &str)] = &[\n");
    let mut cases = String::from("pub static BUILTIN_CASES: &[(&str, &str, &[u8])] = &[\n");
    for product in sorted(&root).into_iter().filter(|p| p.is_dir()) {
        if product.file_name().is_some_and(|n| n == "examples") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", product.display());
        for f in sorted(&product) {
            if f.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            println!("cargo:rerun-if-changed={}", f.display());
            let id = f
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rel = format!(
                "{}/{}.toml",
                product
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                id
            );
            rules.push_str(&format!(
                "    ({rel:?}, include_str!({:?})),\n",
                f.display().to_string()
            ));
            let mut files = Vec::new();
            files_under(&product.join(&id), &mut files);
            for file in files {
                println!("cargo:rerun-if-changed={}", file.display());
                let inner = file
                    .strip_prefix(product.join(&id))
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                // SOURCE.md notes provenance beside the cases; it is no test input.
                if !inner.contains('/') {
                    continue;
                }
                cases.push_str(&format!(
                    "    ({id:?}, {inner:?}, include_bytes!({:?})),\n",
                    file.display().to_string()
                ));
            }
        }
    }
    rules.push_str("];\n");
    cases.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap_or_default()).join("builtin_rules.rs");
    if let Err(e) = fs::write(&out, rules + &cases) {
        panic!("cannot write {}: {e}", out.display());
    }
}
