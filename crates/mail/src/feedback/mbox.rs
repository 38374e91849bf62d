//! mbox files (`herald bounce import`): one message per `From ` line.

/// The messages of an mbox file (each after a `From ` separator line at the start of the
/// file or after an empty line); anything else is one message. Bounces saved from a mail
/// client or a spool often come this way.
pub fn split_mbox(raw: &[u8]) -> Vec<&[u8]> {
    if !raw.starts_with(b"From ") {
        return vec![raw];
    }
    const SEPARATOR: &[u8] = b"\nFrom ";
    let mut starts = vec![0];
    let mut at = 0;
    while let Some(n) = raw[at..]
        .windows(SEPARATOR.len())
        .position(|w| w == SEPARATOR)
    {
        let newline = at + n;
        // Only after an empty line (LF or CRLF files); elsewhere "From " is text.
        let before = &raw[..newline];
        if before.ends_with(b"\n") || before.ends_with(b"\n\r") {
            starts.push(newline + 1);
        }
        at = newline + 1;
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let end = starts.get(i + 1).copied().unwrap_or(raw.len());
            let message = &raw[from..end];
            // Drop the separator line itself.
            message
                .iter()
                .position(|&b| b == b'\n')
                .map_or(&message[message.len()..], |nl| &message[nl + 1..])
        })
        .filter(|m| !m.iter().all(u8::is_ascii_whitespace))
        .collect()
}
