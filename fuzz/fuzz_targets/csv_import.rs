//! A contacts CSV comes from anywhere (another tool's export, a spreadsheet, an upload in the
//! UI): any bytes give kept rows or rejected ones with a line and a reason (status and consent
//! columns included), or a header error — never a panic; every line named is within the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    if let Ok((kept, rejected, statuses, consents)) =
        herald_engine::contacts::parse_only(data.to_vec())
    {
        assert!(statuses <= kept && consents <= kept);
        for r in &rejected {
            assert!(r.line >= 1 && r.line <= lines + 1, "line {} of {lines}", r.line);
            assert!(!r.reason.is_empty());
        }
    }
});
