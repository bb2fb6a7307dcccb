//! The digital twin: its drive sequence validates against the committed XSD.

use std::path::PathBuf;
use std::process::Command;

use breadcrumb_tools::twin::compile;

#[test]
fn sequence_xml_validates_against_the_committed_schema() {
    let seq =
        compile(&[(0.0, 0.0), (3.0, 4.0), (3.0, 20.0), (-7.5, 20.0)], Some(270.0), 2.35).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sequence.xml");
    std::fs::write(&file, seq.to_xml()).unwrap();
    let xsd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/sequence.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint is required for this test (apt-get install libxml2-utils); not skipping");
    assert!(
        out.status.success(),
        "sequence.xml does not validate: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        seq.to_xml()
    );
    // Three turns and three drives, and the JSON reads back to the same sequence.
    assert_eq!(seq.commands.len(), 6);
    let back: breadcrumb_tools::twin::Sequence = serde_json::from_str(&seq.to_json()).unwrap();
    assert_eq!(back, seq);
}
