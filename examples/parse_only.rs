//! The benchmark's floor: what reading and parsing the input costs with
//! kready's YAML parser and nothing else.
//!
//!     cargo run --release --example parse_only -- PATH... [--document | --tree]
//!
//! Default: files are found and read exactly as `kready scan` does, and
//! every document is run through libyaml-safer's event parser (split and
//! parallelised the same way), without building trees or running rules.
//! `--document` also builds libyaml-safer's own node tree per document
//! (`Document::load`: what loading YAML with the library costs).
//! `--tree` instead builds kready's positioned trees and objects (the
//! loader alone, for reference). Prints files, documents and events.

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let tree = args.iter().any(|a| a == "--tree");
    let document = args.iter().any(|a| a == "--document");
    args.retain(|a| a != "--tree" && a != "--document");
    let limits = kready::yaml::Limits::default();
    if tree {
        let out = kready::source::files::load_paths(&args, &limits);
        println!(
            "files {} documents {} objects {} diagnostics {}",
            out.stats.files,
            out.stats.documents,
            out.stats.objects,
            out.diagnostics.len()
        );
    } else if document {
        let (files, docs) = kready::source::files::parse_documents_only(&args, &limits);
        println!("files {files} documents {docs}");
    } else {
        let (files, docs, events) = kready::source::files::parse_only(&args, &limits);
        println!("files {files} documents {docs} events {events}");
    }
}
