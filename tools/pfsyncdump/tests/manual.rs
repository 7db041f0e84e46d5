//! The manual page documents every option the program accepts.

mod common;

#[test]
fn every_long_option_is_in_the_manual() {
    let help = common::run_ok(&["--help"]);
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../man/pfsyncdump.8"
    ))
    .expect("man/pfsyncdump.8");
    let mut checked = 0;
    for word in help.split(|c: char| c.is_whitespace() || c == ',') {
        let Some(name) = word.strip_prefix("--") else {
            continue;
        };
        let name: String = name
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.is_empty() || name == "help" || name == "version" {
            continue;
        }
        assert!(
            page.contains(&format!("Fl Fl {name}")),
            "--{name} is not documented in man/pfsyncdump.8"
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} options found in --help");
}
